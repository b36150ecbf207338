// The system virtual cluster's "gateway": it runs inside the edge (it holds no tenant data, and its
// operations need the control plane, which a tenant gateway must never reach). The edge has
// authenticated the operator with the admin token (SCRAM against a verifier of ADMIN_TOKEN, or
// cleartext); from AuthenticationOk on, this speaks the simple query protocol over a WebSocket
// pair, exactly where a tenant's gateway would:
//
//   Query 'Q'      → parseSystemStatement → TenantOperations → RowDescription/DataRow… CommandComplete
//   Terminate 'X'  → close
//   anything else  → 0A000 (the extended protocol is not offered: drivers fall back to simple
//                    queries when they send no parameters, which is how operators use it)
//
// Every value is text (OID 25), NULL where there is none.
import { PgError, toPgError } from "../../../common/errors.ts";
import {
  AuthenticationOk,
  BackendKeyData,
  CommandComplete,
  DataRow,
  EmptyQueryResponse,
  ErrorResponse,
  ParameterStatus,
  ReadyForQuery,
  RowDescription,
  type RowDescriptionField,
  Outbox,
} from "../../gateway/pgwire/backend.ts";
import { frameBytes } from "../../gateway/edge-contract.ts";
import { MessageReader } from "../../gateway/pgwire/reader.ts";
import type { TenantOperations, TenantView } from "../tenant-operations.ts";

import { parseSystemStatement, type SystemStatement } from "./statement.ts";

export interface SystemResult {
  columns: string[];
  rows: Array<Array<string | null>>;
  tag: string;
}

const CLUSTER_COLUMNS = ["name", "id", "state", "suspended_by", "created_at", "ru_per_second", "burst_ru", "spend_limit_ru", "at_spend_limit", "max_connections", "allowed_cidrs"];
const USAGE_COLUMNS = ["ru_total", "ru_month", "cpu_seconds", "egress_bytes", "kv_read_bytes", "kv_write_bytes", "connections", "http_requests", "storage_live_bytes"];

const text = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === "string" ? v : String(v));

export function clusterRow(v: TenantView): Array<string | null> {
  const s = v.settings;
  return [v.name, text(v.id), v.state, text(v.lifecycle?.suspendedBy ?? null), v.createdAt, text(s.ruPerSecond), text(s.burstRu), text(s.spendLimitRu), s.atSpendLimit, text(s.maxConnections), s.allowedCidrs.join(",")];
}

/** Runs one statement through the operations (the same ones the admin API runs). */
export async function runSystemStatement(ops: TenantOperations, st: SystemStatement): Promise<SystemResult> {
  switch (st.kind) {
    case "create": {
      const { password, ...settings } = st.options;
      const c = await ops.create(st.name, password ?? null, settings);
      return { columns: ["name", "id", "password"], rows: [[c.name, String(c.id), c.password]], tag: "CREATE VIRTUAL CLUSTER" };
    }
    case "alter":
      return { columns: CLUSTER_COLUMNS, rows: [clusterRow(await ops.alter(st.name, st.options))], tag: "ALTER VIRTUAL CLUSTER" };
    case "state":
      return { columns: CLUSTER_COLUMNS, rows: [clusterRow(await ops.alter(st.name, { state: st.state }))], tag: "ALTER VIRTUAL CLUSTER" };
    case "list": {
      const all = await ops.list();
      return { columns: CLUSTER_COLUMNS, rows: all.map(clusterRow), tag: `SHOW ${all.length}` };
    }
    case "show": {
      const v = await ops.show(st.name);
      if (!st.usage) return { columns: CLUSTER_COLUMNS, rows: [clusterRow(v)], tag: "SHOW 1" };
      const u = await ops.usage(st.name, 0, Date.now());
      const latest = [...u.hours].reverse().find((h) => h.storage !== null)?.storage ?? null;
      const t = u.totals;
      const usage = [t.ru, u.month.ru, t.cpuMs / 1000, t.egressBytes, t.kv.readBytes, t.kv.writeBytes, t.connections, t.httpRequests, latest?.liveBytes ?? null].map(text);
      return { columns: [...CLUSTER_COLUMNS, ...USAGE_COLUMNS], rows: [[...clusterRow(v), ...usage]], tag: "SHOW 1" };
    }
    case "drop":
      try {
        await ops.drop(st.name);
      } catch (err) {
        if (!(st.ifExists && err instanceof PgError && err.condition === "invalid_catalog_name")) throw err;
      }
      return { columns: [], rows: [], tag: "DROP VIRTUAL CLUSTER" };
  }
}

function field(name: string): RowDescriptionField {
  return { name, tableID: 0, columnID: 0, dataTypeID: 25, dataTypeSize: -1, dataTypeModifier: -1 };
}

/**
 * A WebSocket whose far end speaks as the system cluster's gateway; returned like a gateway's
 * upgrade response, so the edge pipes the client to it as to any tenant's gateway.
 */
export function openSystemSession(ops: () => TenantOperations, backendKey: { processId: number; secretKey: number }): Response {
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  server.accept();
  const reader = new MessageReader();
  const send = (write: (out: Outbox) => void) => {
    const out = new Outbox();
    write(out);
    try {
      server.send(out.take());
    } catch {
      // The client went away.
    }
  };
  send((out) => {
    AuthenticationOk(out);
    for (const [k, v] of [
      ["server_version", "15.0 (Warren system)"],
      ["server_encoding", "UTF8"],
      ["client_encoding", "UTF8"],
      ["DateStyle", "ISO, MDY"],
      ["integer_datetimes", "on"],
      ["standard_conforming_strings", "on"],
    ]) ParameterStatus(out, k!, v!);
    BackendKeyData(out, backendKey.processId, backendKey.secretKey);
    ReadyForQuery(out, "I");
  });
  let chain: Promise<void> = Promise.resolve();
  const onMessage = async (type: string, body: Uint8Array): Promise<void> => {
    if (type === "X") {
      server.close(1000, "terminate");
      return;
    }
    if (type !== "Q") {
      send((out) => {
        ErrorResponse(out, new PgError("feature_not_supported", "the system virtual cluster answers simple queries only (no parameters, no prepared statements)"));
        ReadyForQuery(out, "I");
      });
      return;
    }
    const sql = new TextDecoder().decode(body.subarray(0, Math.max(0, body.length - 1)));
    try {
      const st = parseSystemStatement(sql);
      if (st === null) {
        send((out) => {
          EmptyQueryResponse(out);
          ReadyForQuery(out, "I");
        });
        return;
      }
      const r = await runSystemStatement(ops(), st);
      send((out) => {
        if (r.columns.length > 0) {
          RowDescription(out, r.columns.map(field));
          for (const row of r.rows) DataRow(out, row);
        }
        CommandComplete(out, r.tag);
        ReadyForQuery(out, "I");
      });
    } catch (err) {
      send((out) => {
        ErrorResponse(out, toPgError(err));
        ReadyForQuery(out, "I");
      });
    }
  };
  server.addEventListener("message", (event) => {
    chain = chain.then(async () => {
      reader.push(await frameBytes(event.data));
      for (let m = reader.next(); m !== null; m = reader.next()) await onMessage(m.type, m.body);
    }).catch((err: unknown) => {
      send((out) => ErrorResponse(out, toPgError(err), "FATAL"));
      server.close(1000, "protocol error");
    });
  });
  return new Response(null, { status: 101, webSocket: client });
}
