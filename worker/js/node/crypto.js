// node:crypto — the Web Crypto random functions handlers use.
const webcrypto = globalThis.crypto;
export const getRandomValues = (array) => webcrypto.getRandomValues(array);
export const randomUUID = () => webcrypto.randomUUID();
export { webcrypto };
export default { getRandomValues, randomUUID, webcrypto };
