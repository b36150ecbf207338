// Writes rows of one table with every constraint checked: NOT NULL (23502), CHECK (23514),
// primary key and unique indexes (23505), foreign keys in both directions (23503), and keeps the
// secondary indexes in step. Existence checks of a batch of rows go to storage as one read.
import { PgError } from "../../../../common/errors.ts";
import type { ForeignKeyDesc, IndexDesc, TableDesc } from "../../catalog/descriptors.ts";
import { concatBytes, keyString } from "../../../../common/bytes.ts";
import type { Expr } from "../bind/bound.ts";
import type { TableRules } from "../bind/table-rules.ts";
import { compareDatums } from "../types/compare.ts";
import type { Datum } from "../types/datum.ts";
import { formatText } from "../types/text-io.ts";
import type { TimeZone } from "../types/timezone.ts";
import { typeFromOid, typeOfStored } from "../types/type.ts";
import type { ExecContext } from "./context.ts";
import { compile, evalRow, type Compiled, type Row } from "./eval.ts";
import type { RowCodec } from "./row-codec.ts";
import { indexTests, type RowTest } from "./index-predicate.ts";
import { predicateImplied } from "../bind/predicate-implication.ts";

export interface ConflictPolicy {
  /** Column positions of the conflict target; empty: any unique constraint. */
  targetCols: number[];
  /** Conjuncts of the target's WHERE (ON CONFLICT (cols) WHERE …): a partial unique index matches only if they imply its predicate. */
  targetWhere: readonly Expr[];
  /** Called with the existing row and the proposed one: the row to write instead, or null to skip. */
  resolve(existing: Row, proposed: Row): Promise<Row | null>;
}

function describeKey(t: TableDesc, codec: RowCodec, cols: number[], row: Row, timeZone: TimeZone): { names: string; values: string } {
  const names = cols.map((p) => t.columns[p]!.name).join(", ");
  const values = cols.map((p) => formatText(row[p]!, codec.types[p]!, { timeZone }) ?? "null").join(", ");
  return { names, values };
}

function rowText(codec: RowCodec, row: Row, t: TableDesc, timeZone: TimeZone): string {
  return t.columns.map((c, i) => (c.hidden ? null : formatText(row[i]!, codec.types[i]!, { timeZone }) ?? "null")).filter((x) => x !== null).join(", ");
}

export class TableWriter {
  readonly table: TableDesc;
  private readonly ctx: ExecContext;
  readonly codec: RowCodec;
  private readonly checks: Array<{ name: string; c: Compiled }>;
  private readonly defaults: Array<Compiled | null>;
  private readonly generated: Array<{ p: number; c: Compiled }>;
  private readonly uniques: IndexDesc[];
  /** Whether a row has an entry in an index (false only outside a partial index's predicate). */
  readonly covers: (ix: IndexDesc) => RowTest;
  private readonly predicates: ReadonlyMap<number, Expr>;

  constructor(ctx: ExecContext, table: TableDesc, rules: TableRules) {
    this.ctx = ctx;
    this.table = table;
    this.codec = ctx.codec(table);
    this.checks = rules.checks.map((ch) => ({ name: ch.name, c: compile(ch.expr, ctx) }));
    this.defaults = rules.defaults.map((d: Expr | null) => (d === null ? null : compile(d, ctx)));
    this.generated = [];
    rules.generated.forEach((g, p) => {
      if (g !== null) this.generated.push({ p, c: compile(g, ctx) });
    });
    this.uniques = table.indexes.filter((ix) => ix.unique);
    this.hiddenPk = table.primaryIndex.columns.every((c) => table.columns[this.codec.position(c.columnId)]!.hidden);
    this.predicates = rules.indexPredicates;
    this.covers = indexTests(rules.indexPredicates, ctx);
  }
  /**
   * The primary key is the hidden row id (a table declared without one): every inserted row gets a
   * fresh unique_rowid, which no existing key can equal, so inserts skip probing it (a COPY of a
   * million rows into pgbench_accounts would otherwise read a million keys that cannot exist).
   */
  private readonly hiddenPk: boolean;

  private pos(columnId: number): number {
    return this.codec.position(columnId);
  }

  /** Whether a key column holds equal values (by its type's `=`; NULL equals NULL) in two rows. */
  private sameValue(columnId: number, a: Row, b: Row): boolean {
    const p = this.pos(columnId);
    return compareDatums(a[p]!, b[p]!, this.codec.types[p]!) === 0;
  }

  /** Value of a column's DEFAULT (nextval for serials, a fresh id for the hidden row id). */
  async defaultFor(p: number): Promise<Datum> {
    const col = this.table.columns[p]!;
    if (col.hidden) return this.ctx.special("unique_rowid", []);
    const d = this.defaults[p];
    return d === null || d === undefined ? null : evalRow(d, [], this.ctx);
  }

  /**
   * Completes a row and checks it: generated columns are computed from the row's other columns
   * (after BEFORE triggers, before constraints, as Postgres does), then NOT NULL and CHECK.
   */
  async validate(row: Row): Promise<void> {
    // Every generation expression reads the row as it was given: none may use another generated column.
    const computed = await Promise.all(this.generated.map((g) => evalRow(g.c, row, this.ctx)));
    this.generated.forEach((g, i) => (row[g.p] = computed[i]!));
    this.table.columns.forEach((c, i) => {
      if (!c.nullable && row[i] === null) {
        throw new PgError("not_null_violation", `null value in column "${c.name}" of relation "${this.table.name}" violates not-null constraint`, {
          detail: `Failing row contains (${rowText(this.codec, row, this.table, this.ctx.evalContext.timeZone)}).`,
          table: this.table.name,
          column: c.name,
        });
      }
    });
    for (const ch of this.checks) {
      if ((await evalRow(ch.c, row, this.ctx)) === false) {
        throw new PgError("check_violation", `new row for relation "${this.table.name}" violates check constraint "${ch.name}"`, {
          detail: `Failing row contains (${rowText(this.codec, row, this.table, this.ctx.evalContext.timeZone)}).`,
          table: this.table.name,
          constraint: ch.name,
        });
      }
    }
  }

  private uniqueViolation(ix: IndexDesc, row: Row): PgError {
    const cols = ix.columns.map((c) => this.pos(c.columnId));
    const { names, values } = describeKey(this.table, this.codec, cols, row, this.ctx.evalContext.timeZone);
    const name = ix.primary ? this.table.pkeyName || `${this.table.name}_pkey` : ix.name;
    return new PgError("unique_violation", `duplicate key value violates unique constraint "${name}"`, {
      detail: `Key (${names})=(${values}) already exists.`,
      table: this.table.name,
      constraint: name,
    });
  }

  private uniqueKey(ix: IndexDesc, row: Row): Uint8Array | null {
    if (ix.primary) return this.codec.primaryKey(row);
    if (ix.columns.some((c) => row[this.pos(c.columnId)] === null)) return null;
    // A row outside a partial unique index's predicate cannot conflict through it.
    if (!this.covers(ix)(row)) return null;
    return this.codec.indexEntry(ix, row).key;
  }

  /**
   * Inserts rows (already complete and validated). With a conflict policy, a row whose unique key
   * exists is handed to it; otherwise 23505. Returns the rows actually written.
   */
  async insert(rows: Row[], policy: ConflictPolicy | null): Promise<Row[]> {
    const written: Row[] = [];
    const keyed = this.hiddenPk ? this.uniques : [this.table.primaryIndex, ...this.uniques];
    // One read for every unique key of the batch (primary and unique secondary indexes).
    const probes: Array<{ row: number; ix: IndexDesc; key: Uint8Array }> = [];
    rows.forEach((r, i) => {
      for (const ix of keyed) {
        const k = this.uniqueKey(ix, r);
        if (k !== null) probes.push({ row: i, ix, key: k });
      }
    });
    const existing = await this.ctx.txn.getMany(probes.map((p) => p.key));
    const conflictOf = new Map<number, { ix: IndexDesc; value: Uint8Array }>();
    probes.forEach((p, i) => {
      const v = existing[i];
      if (v !== null && v !== undefined && !conflictOf.has(p.row)) conflictOf.set(p.row, { ix: p.ix, value: v });
    });
    const seenInBatch = new Map<string, number>();
    for (let i = 0; i < rows.length; i++) {
      let row = rows[i]!;
      let conflict = conflictOf.get(i);
      // Duplicates within the statement itself.
      if (conflict === undefined) {
        for (const ix of keyed) {
          const k = this.uniqueKey(ix, row);
          if (k === null) continue;
          const ks = `${ix.id}:${keyString(k)}`;
          if (seenInBatch.has(ks)) {
            const v = await this.ctx.txn.get(k);
            if (v !== null) conflict = { ix, value: v };
            else conflict = { ix, value: new Uint8Array() };
            break;
          }
        }
      }
      if (conflict !== undefined) {
        if (policy === null || (policy.targetCols.length > 0 && !this.matchesTarget(conflict.ix, policy))) {
          throw this.uniqueViolation(conflict.ix, row);
        }
        const oldRow = await this.existingRow(conflict.ix, conflict.value, row);
        if (oldRow === null) throw this.uniqueViolation(conflict.ix, row);
        const replacement = await policy.resolve(oldRow, row);
        if (replacement === null) continue;
        await this.validate(replacement);
        await this.update(oldRow, replacement);
        written.push(replacement);
        continue;
      }
      await this.checkOutgoingFks(row, null);
      this.writeRow(row);
      for (const ix of keyed) {
        const k = this.uniqueKey(ix, row);
        if (k !== null) seenInBatch.set(`${ix.id}:${keyString(k)}`, i);
      }
      written.push(row);
      row = rows[i]!;
    }
    // A COPY or INSERT of millions of rows sends them to storage as intents between chunks.
    await this.ctx.txn.maybeFlush();
    return written;
  }

  private matchesTarget(ix: IndexDesc, policy: ConflictPolicy): boolean {
    const cols = ix.columns.map((c) => this.pos(c.columnId));
    const pred = this.predicates.get(ix.id);
    if (pred !== undefined && !predicateImplied(pred, policy.targetWhere)) return false;
    return cols.length === policy.targetCols.length && cols.every((c) => policy.targetCols.includes(c));
  }

  /** The stored row a unique-key conflict points at. */
  private async existingRow(ix: IndexDesc, value: Uint8Array, proposed: Row): Promise<Row | null> {
    if (ix.primary) {
      const v = value.length > 0 ? value : await this.ctx.txn.get(this.codec.primaryKey(proposed));
      return v === null ? null : this.codec.decode(v);
    }
    const entry = value.length > 0 ? value : null;
    if (entry === null) {
      const v = await this.ctx.txn.get(this.codec.indexEntry(ix, proposed).key);
      if (v === null) return null;
      const pv = await this.ctx.txn.get(this.codec.primaryKeyFromSuffix(v));
      return pv === null ? null : this.codec.decode(pv);
    }
    const pv = await this.ctx.txn.get(this.codec.primaryKeyFromSuffix(entry));
    return pv === null ? null : this.codec.decode(pv);
  }

  private writeRow(row: Row): void {
    this.ctx.txn.put(this.codec.primaryKey(row), this.codec.encodeValue(row));
    for (const ix of this.table.indexes) {
      if (!this.covers(ix)(row)) continue;
      const e = this.codec.indexEntry(ix, row);
      this.ctx.txn.put(e.key, e.value);
    }
  }

  private deleteEntries(row: Row): void {
    this.ctx.txn.del(this.codec.primaryKey(row));
    for (const ix of this.table.indexes) if (this.covers(ix)(row)) this.ctx.txn.del(this.codec.indexEntry(ix, row).key);
  }

  /** Replaces `oldRow` by `newRow` (validated by the caller), moving keys and index entries as needed. */
  async update(oldRow: Row, newRow: Row): Promise<void> {
    const oldPk = this.codec.primaryKey(oldRow);
    const newPk = this.codec.primaryKey(newRow);
    const pkChanged = keyString(oldPk) !== keyString(newPk);
    if (pkChanged && (await this.ctx.txn.get(newPk)) !== null) throw this.uniqueViolation(this.table.primaryIndex, newRow);
    for (const ix of this.uniques) {
      const nk = this.uniqueKey(ix, newRow);
      const ok = this.uniqueKey(ix, oldRow);
      if (nk !== null && (ok === null || keyString(ok) !== keyString(nk)) && (await this.ctx.txn.get(nk)) !== null) {
        throw this.uniqueViolation(ix, newRow);
      }
    }
    await this.checkOutgoingFks(newRow, oldRow);
    this.deleteEntries(oldRow);
    this.writeRow(newRow);
    // The rows referencing the old key, after the new row is written: ON UPDATE CASCADE moves
    // them to the new key, and their own foreign key check must find it.
    if (pkChanged) await this.checkIncomingFks(oldRow, newRow);
    else await this.checkIncomingFksOnUniqueChange(oldRow, newRow);
    // A big UPDATE sends its writes to storage as intents as it goes (the buffer stays bounded).
    await this.ctx.txn.maybeFlush();
  }

  async delete(oldRow: Row): Promise<void> {
    await this.checkIncomingFks(oldRow, null);
    this.deleteEntries(oldRow);
    await this.ctx.txn.maybeFlush();
  }

  // ---- foreign keys ----

  /** Validates this row's outgoing foreign keys (ALTER TABLE … ADD FOREIGN KEY on existing rows). */
  async checkForeignKeys(row: Row): Promise<void> {
    await this.checkOutgoingFks(row, null);
  }

  /** This row's references must exist in the referenced tables. */
  private async checkOutgoingFks(row: Row, oldRow: Row | null): Promise<void> {
    for (const fk of this.table.foreignKeys) {
      const vals = fk.columnIds.map((id) => row[this.pos(id)]!);
      if (vals.some((v) => v === null)) continue; // MATCH SIMPLE: any NULL skips the check.
      if (oldRow !== null && fk.columnIds.every((id) => this.sameValue(id, oldRow, row))) continue;
      const parent = this.ctx.catalog.table(fk.refTableId);
      if (!(await this.referencedExists(parent, fk, vals))) {
        const cols = fk.columnIds.map((id) => this.pos(id));
        const { names, values } = describeKey(this.table, this.codec, cols, row, this.ctx.evalContext.timeZone);
        throw new PgError("foreign_key_violation", `insert or update on table "${this.table.name}" violates foreign key constraint "${fk.name}"`, {
          detail: `Key (${names})=(${values}) is not present in table "${parent.name}".`,
          table: this.table.name,
          constraint: fk.name,
        });
      }
    }
  }

  private async referencedExists(parent: TableDesc, fk: ForeignKeyDesc, vals: Datum[]): Promise<boolean> {
    const pc = this.ctx.codec(parent);
    const ix = [parent.primaryIndex, ...parent.indexes].find(
      (i) => (i.primary || i.unique) && i.columns.length === fk.refColumnIds.length && i.columns.every((c, k) => c.columnId === fk.refColumnIds[k]),
    );
    if (ix === undefined) throw new PgError("internal_error", `no unique index on ${parent.name} for foreign key ${fk.name}`);
    const key = concatBytes([pc.indexPrefix(ix), pc.encodeValues(ix, vals)]);
    return (await this.ctx.txn.get(key)) !== null;
  }

  private async checkIncomingFksOnUniqueChange(oldRow: Row, newRow: Row): Promise<void> {
    // Only the columns of unique indexes can be referenced (the primary key is known unchanged).
    const changed = this.uniques.some((ix) => ix.columns.some((c) => !this.sameValue(c.columnId, oldRow, newRow)));
    if (changed) await this.checkIncomingFks(oldRow, newRow, true);
  }

  /** Rows of other tables referencing `oldRow` block its deletion (or cascade, or get nulled). */
  private async checkIncomingFks(oldRow: Row, newRow: Row | null, onlyIfKeyChanged = false): Promise<void> {
    for (const child of this.ctx.catalog.referencing(this.table.id)) {
      for (const fk of child.foreignKeys.filter((f) => f.refTableId === this.table.id)) {
        const refVals = fk.refColumnIds.map((id) => oldRow[this.pos(id)]!);
        if (refVals.some((v) => v === null)) continue;
        if (newRow !== null && fk.refColumnIds.every((id) => this.sameValue(id, oldRow, newRow))) continue;
        if (onlyIfKeyChanged && newRow === null) continue;
        const refs = await this.ctx.findReferencing(child, fk, refVals);
        if (refs.length === 0) continue;
        const action = newRow === null ? fk.onDelete : fk.onUpdate;
        if (action === "c" || action === "n" || action === "d") {
          const childWriter = await this.ctx.writerFor(child);
          for (const r of refs) {
            if (action === "c" && newRow === null) {
              await childWriter.delete(r);
            } else {
              const nr = r.slice();
              fk.columnIds.forEach((id, k) => {
                const p = childWriter.codec.position(id);
                nr[p] = action === "c" && newRow !== null ? newRow[this.pos(fk.refColumnIds[k]!)]! : null;
              });
              await childWriter.validate(nr);
              await childWriter.update(r, nr);
            }
          }
          continue;
        }
        const cols = fk.refColumnIds.map((id) => this.pos(id));
        const { names, values } = describeKey(this.table, this.codec, cols, oldRow, this.ctx.evalContext.timeZone);
        throw new PgError("foreign_key_violation", `update or delete on table "${this.table.name}" violates foreign key constraint "${fk.name}" on table "${child.name}"`, {
          detail: `Key (${names})=(${values}) is still referenced from table "${child.name}".`,
          table: child.name,
          constraint: fk.name,
        });
      }
    }
  }
}

export function columnTypes(t: TableDesc): ReturnType<typeof typeFromOid>[] {
  return t.columns.map((c) => typeOfStored(c.type));
}
