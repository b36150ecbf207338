// The subexpression tree that decides where captures fall, built as Postgres's regcomp.c builds
// it (parse / parsebranch / parseqatom), with the same greediness flags. Parts of a branch with no
// capture, back-reference or greediness clash are merged into plain leaves ('='); the tree keeps
// concatenations ('.'), alternations ('|'), iterations ('*'), back-references ('b') and capture
// wrappers ('(') only where capture positions depend on them. Postgres's match rules follow from
// this shape: the whole RE's greediness is its top node's, a concatenation splits where its left
// child prefers, an iteration reports its last round.

import type { Alternation, Item } from "./ast.ts";
import { INFINITE, LONGER, SHORTER } from "./ast.ts";
import type { Fragment } from "./nfa.ts";

export const MIXED = 4;
export const CAP = 8;
export const BACKR = 16;

const UPPROP = MIXED | CAP | BACKR;
export const up = (f: number): number => (f & UPPROP) | ((f << 2) & (f << 1) & MIXED);
export const messy = (f: number): number => f & (MIXED | CAP | BACKR);
const pref = (f: number): number => f & (LONGER | SHORTER);
const pref2 = (f1: number, f2: number): number => (pref(f1) !== 0 ? pref(f1) : pref(f2));
export const combine = (f1: number, f2: number): number => up(f1 | f2) | pref2(f1, f2);

export interface Subre {
  op: "=" | "." | "|" | "*" | "b" | "(";
  flags: number;
  /** Capture group number set when this node matches, 0 for none. */
  capno: number;
  children: Subre[];
  /** Repetition bounds of '*' and 'b' nodes. */
  min: number;
  max: number;
  /** Group a 'b' node refers to. */
  backno: number;
  /** What the node matches, for its NFA. */
  frag: Fragment;
  /** Index into the compiled regex's NFA table, set when the tree is numbered. */
  id: number;
}

function node(op: Subre["op"], flags: number, frag: Fragment, children: Subre[] = []): Subre {
  return { op, flags, capno: 0, children, min: 1, max: 1, backno: 0, frag, id: -1 };
}

function leaf(items: readonly Item[], flags: number): Subre {
  return node("=", flags, { kind: "items", items });
}

export function alternationFragment(alt: Alternation): Fragment {
  if (alt.branches.length === 1) return { kind: "items", items: alt.branches[0]! };
  return { kind: "alt", parts: alt.branches.map((items) => ({ kind: "items", items })) };
}

/** parse(): an alternation; one branch stands for itself, a boring alternation becomes a leaf. */
export function buildTree(alt: Alternation): Subre {
  if (alt.branches.length === 1) return branch(alt.branches[0]!);
  const children = alt.branches.map(branch);
  let flags = LONGER;
  for (const c of children) flags |= up(flags | c.flags);
  if (!messy(flags)) return node("=", flags, alternationFragment(alt));
  return node("|", flags, { kind: "alt", parts: children.map((c) => c.frag) }, children);
}

/** parsebranch() with parseqatom(): one branch, as a sequence of quantified atoms. */
function branch(items: readonly Item[]): Subre {
  const prefix: Item[] = [];
  let topFlags = 0;
  for (let idx = 0; idx < items.length; idx++) {
    const item = items[idx]!;
    if (item.kind !== "quant") {
      prefix.push(item);
      continue;
    }
    const { atom, min: m, max: n, prefer: qprefer } = item;
    let sub: Subre | null = null;
    let plain = true;
    if (atom.kind === "group") {
      const inner = buildTree(atom.body);
      if (atom.capture > 0) {
        plain = false;
        if (inner.capno === 0) {
          inner.flags |= CAP;
          inner.capno = atom.capture;
          sub = inner;
        } else {
          sub = node("(", inner.flags | CAP, inner.frag, [inner]);
          sub.capno = atom.capture;
        }
      } else {
        sub = inner;
      }
    } else if (atom.kind === "backref") {
      plain = false;
      sub = node("b", BACKR, { kind: "backref", group: atom.group, min: 1, max: 1 });
      sub.backno = atom.group;
    }
    // {0} cancels the atom (its groups still exist, so back-references to them are legal).
    if (m === 0 && n === 0) {
      prefix.push(item);
      continue;
    }
    const f = topFlags | qprefer | (sub?.flags ?? 0);
    if (plain && !messy(up(f))) {
      prefix.push(item);
      topFlags = f;
      continue;
    }

    // The hard part: this atom needs its own node.
    if (sub === null) sub = leaf([{ kind: "quant", atom, min: 1, max: 1, prefer: 0 }], 0);
    const prefixVacuous = prefix.length === 0;
    const prefixNode = leaf([...prefix], topFlags);
    let tFlags = combine(qprefer, sub.flags);
    if (atom.kind === "backref") {
      sub.min = m;
      sub.max = n;
      sub.flags |= combine(qprefer, sub.flags);
      sub.frag = { kind: "backref", group: sub.backno, min: m, max: n };
    } else if (m === 1 && n === 1 && (qprefer === 0 || (sub.flags & (LONGER | SHORTER | MIXED)) === 0 || qprefer === (sub.flags & (LONGER | SHORTER | MIXED)))) {
      // No quantifier, or one that changes nothing.
    } else if ((sub.flags & (CAP | BACKR)) === 0) {
      sub = node("=", combine(qprefer, sub.flags), { kind: "repeat", body: sub.frag, min: m, max: n });
    } else if (m > 0 && (sub.flags & BACKR) === 0) {
      // x{m,n} is x{m-1,n-1} followed by x: only the last round's captures are reported.
      const f2 = combine(qprefer, sub.flags);
      const pre = node("=", pref(f2), { kind: "repeat", body: sub.frag, min: m - 1, max: n === INFINITE ? INFINITE : n - 1 });
      sub = node(".", f2, { kind: "seq", parts: [pre.frag, sub.frag] }, [pre, sub]);
    } else {
      const it = node("*", combine(qprefer, sub.flags), { kind: "repeat", body: sub.frag, min: m, max: n }, [sub]);
      it.min = m;
      it.max = n;
      sub = it;
    }

    const rest = items.slice(idx + 1);
    if (rest.length > 0) {
      const restNode = branch(rest);
      tFlags |= combine(tFlags, restNode.flags);
      topFlags |= combine(topFlags, tFlags);
      if (prefixVacuous) return node(".", topFlags, { kind: "seq", parts: [sub.frag, restNode.frag] }, [sub, restNode]);
      let t: Subre;
      if (sub.op === "=" && restNode.op === "=" && !messy(up(sub.flags | restNode.flags))) {
        t = node("=", combine(sub.flags, restNode.flags), { kind: "seq", parts: [sub.frag, restNode.frag] });
      } else {
        t = node(".", tFlags, { kind: "seq", parts: [sub.frag, restNode.frag] }, [sub, restNode]);
      }
      return node(".", topFlags, { kind: "seq", parts: [prefixNode.frag, t.frag] }, [prefixNode, t]);
    }
    topFlags |= combine(topFlags, sub.flags);
    if (prefixVacuous) return sub;
    return node(".", topFlags, { kind: "seq", parts: [prefixNode.frag, sub.frag] }, [prefixNode, sub]);
  }
  return leaf(prefix, topFlags);
}

/** Numbers the nodes (pre-order) and returns them, so each can own one compiled NFA. */
export function numberTree(t: Subre, out: Subre[] = []): Subre[] {
  t.id = out.length;
  out.push(t);
  for (const c of t.children) numberTree(c, out);
  return out;
}
