// node:dns/promises — lookup(), as dns.promises.
import { promises } from "./dns.js";

export const lookup = promises.lookup;
export default { lookup };
