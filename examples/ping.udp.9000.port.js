// ping.udp.9000.port.js
export async function message(msg, rinfo, ctx) {
const n = (await ctx.shared.get("count")) ?? 0;
await ctx.shared.set("count", n + 1);
ctx.reply(Buffer.from(`pong #${n + 1}\n`), rinfo);
}
