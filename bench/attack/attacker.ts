// The attacker's process: one attack of attacks.ts against the node at the
// given port, until killed. Forked by bench/attack/run.ts.
import { attacks } from "./attacks.js";

const [name, port, groupIdHex, addresses] = process.argv.slice(2);
const attack = name === undefined ? undefined : attacks[name];
if (attack === undefined || port === undefined || groupIdHex === undefined || addresses === undefined) {
  throw new Error("usage: attacker.ts <attack> <port> <group id hex> <address,address,...>");
}
// A socket the node resets or refuses is the node doing its job; anything
// else is a bug of the attack, which must not pass for a node that held.
const isNetworkError = (error: unknown) => typeof (error as { code?: unknown } | undefined)?.code === "string" && /^(E[A-Z]+|ERR_HTTP2_|ERR_STREAM_)/.test((error as { code: string }).code);
const onError = (error: unknown) => {
  if (isNetworkError(error)) return;
  console.error("attacker failed:", error);
  process.exit(1);
};
process.on("uncaughtException", onError);
process.on("unhandledRejection", onError);
// Alive until killed, even for an attack with nothing in flight ("none").
setInterval(() => undefined, 2 ** 30);
await attack.run({ port: Number(port), groupId: Buffer.from(groupIdHex, "hex"), addresses: addresses.split(",") });
