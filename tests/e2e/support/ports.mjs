// Ports for the servers the tests and the benchmark start. A port the kernel hands out for
// listen(0) comes from the ephemeral range, where any outgoing connection can take it between
// our check and the service's bind ("Address already in use"). So: ports below that range,
// checked free by binding, and never handed out twice by one process.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';

function ephemeralLow() {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 12000) return low;
  } catch { /* not Linux */ }
  return 32768;
}

const LOW = 10000;
const HIGH = ephemeralLow() - 1;
const handedOut = new Set();

function canListen(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A loopback TCP port that is free now, outside the ephemeral range, new to this process. */
export async function freePort() {
  for (let i = 0; i < 1000; i++) {
    const port = randomInt(LOW, HIGH + 1);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found between ${LOW} and ${HIGH}`);
}
