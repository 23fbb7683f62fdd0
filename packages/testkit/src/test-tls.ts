// A self-signed certificate for localhost and 127.0.0.1 (valid until 2126),
// made for tests with openssl; its key protects nothing.
import { readFileSync } from "node:fs";

const dir = new URL("../fixtures/tls/", import.meta.url);

export function testTls(): { cert: Buffer; key: Buffer } {
  return {
    cert: readFileSync(new URL("localhost-cert.pem", dir)),
    key: readFileSync(new URL("localhost-key.pem", dir)),
  };
}
