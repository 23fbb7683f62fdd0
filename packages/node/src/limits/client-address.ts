// The address a client's limits are kept under. IPv4 clients are counted per
// address; IPv6 clients per /64, the smallest prefix a single subscriber is
// normally given (RFC 6177), so that cycling through the addresses of one
// allocation buys nothing. An IPv4 address mapped into IPv6 counts as IPv4.
import net from "node:net";

export function clientAddress(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined || remoteAddress === "") return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (net.isIPv6(remoteAddress)) return `${ipv6Prefix64(remoteAddress)}::/64`;
  return remoteAddress;
}

/** The first four groups of an IPv6 address, written out (`::` expanded). */
function ipv6Prefix64(address: string): string {
  const bare = address.split("%")[0] ?? address;
  const [head = "", tail] = bare.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  // An embedded IPv4 tail takes two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const missing = tail === undefined ? 0 : 8 - width(headGroups) - width(tailGroups);
  const groups = [...headGroups, ...Array<string>(Math.max(0, missing)).fill("0"), ...tailGroups];
  return groups
    .slice(0, 4)
    .map((g) => (g.includes(".") ? "0" : (Number.parseInt(g, 16) || 0).toString(16)))
    .join(":");
}
