// Client networks as CIDR blocks (a tenant's allowed networks): parsed strictly, as PostgreSQL's
// `cidr` type does — an IPv4 or IPv6 address, `/` and a prefix length (a bare address is a single
// host: /32 or /128), and no bits set to the right of the mask.

export interface Cidr {
  family: 4 | 6;
  /** The network address, 4 or 16 bytes. */
  bytes: Uint8Array;
  prefix: number;
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return null;
    out[i] = Number(p);
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string): string[] | null => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  // An embedded IPv4 address may end the address (::ffff:10.0.0.1).
  const words: number[] = [];
  const all = [...head, ...(halves.length === 2 ? ["::"] : []), ...tail];
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (g === "::") {
      words.push(-1);
      continue;
    }
    if (i === all.length - 1 && g.includes(".")) {
      const v4 = parseIpv4(g);
      if (!v4) return null;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    words.push(parseInt(g, 16));
  }
  const gap = words.indexOf(-1);
  const explicit = words.filter((w) => w !== -1);
  if (gap === -1 ? explicit.length !== 8 : explicit.length > 7) return null;
  const full = gap === -1 ? explicit : [...words.slice(0, gap), ...new Array<number>(8 - explicit.length).fill(0), ...words.slice(gap + 1)];
  const out = new Uint8Array(16);
  full.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** The CIDR block, or why the text is not one (a sentence for an error message). */
export function parseCidr(text: string): Cidr | { problem: string } {
  if (typeof text !== "string" || text.length === 0 || text.length > 64) return { problem: "must be a CIDR block such as 10.0.0.0/8 or 2001:db8::/32" };
  const [addr, prefixText, extra] = text.split("/");
  if (extra !== undefined) return { problem: `"${text}" has more than one "/"` };
  const v4 = parseIpv4(addr!);
  const bytes = v4 ?? (addr!.includes(":") ? parseIpv6(addr!) : null);
  if (!bytes) return { problem: `"${addr}" is not an IPv4 or IPv6 address` };
  const family = v4 ? 4 : 6;
  const bits = bytes.length * 8;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return { problem: `prefix length "${prefixText}" must be 0 to ${bits} for an IPv${family} address` };
    prefix = Number(prefixText);
  }
  for (let bit = prefix; bit < bits; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) return { problem: `"${text}" has bits set to right of the mask (the network is ${formatCidr({ family, bytes: masked(bytes, prefix), prefix })})` };
  }
  return { family, bytes, prefix };
}

function masked(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = bytes.slice();
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

/** Canonical text: dotted IPv4, or IPv6 with lowercase hex and the longest zero run as "::". */
export function formatCidr(c: Cidr): string {
  if (c.family === 4) return `${[...c.bytes].join(".")}/${c.prefix}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((c.bytes[i]! << 8) | c.bytes[i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  const text = best === -1 ? hex(words) : `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
  return `${text}/${c.prefix}`;
}

/** Whether `address` (an IP address's bytes, same family) lies inside the block. */
export function cidrContains(c: Cidr, address: Uint8Array): boolean {
  if (address.length !== c.bytes.length) return false;
  for (let bit = 0; bit < c.prefix; bit++) {
    const m = 0x80 >> (bit & 7);
    if ((address[bit >> 3]! & m) !== (c.bytes[bit >> 3]! & m)) return false;
  }
  return true;
}
