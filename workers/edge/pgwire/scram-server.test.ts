// The server side of SCRAM-SHA-256 against RFC 7677's example exchange (user "user", password
// "pencil"), and the ways a client message can be wrong.
import { describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import { makeVerifier } from "../../../durable-objects/router/scram.ts";
import { ScramServerExchange } from "./scram-server.ts";

const salt = Uint8Array.from(atob("W22ZaJ0SNY7soEsUEjb6gQ=="), (c) => c.charCodeAt(0));
const clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const serverPart = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const clientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

describe("ScramServerExchange", () => {
  it("reproduces RFC 7677's exchange from the stored verifier alone", async () => {
    const ex = new ScramServerExchange(await makeVerifier("pencil", 4096, salt), serverPart);
    expect(ex.clientFirst(clientFirst)).toBe(serverFirst);
    expect(await ex.clientFinal(clientFinal)).toBe(serverFinal);
  });

  it("answers null (wrong password) when the proof was made from another password", async () => {
    const ex = new ScramServerExchange(await makeVerifier("not-pencil", 4096, salt), serverPart);
    ex.clientFirst(clientFirst);
    expect(await ex.clientFinal(clientFinal)).toBeNull();
  });

  it("refuses channel binding, a nonce mismatch, and malformed messages with 08P01", async () => {
    const v = await makeVerifier("pencil", 4096, salt);
    expect(() => new ScramServerExchange(v).clientFirst("p=tls-server-end-point,,n=,r=abc")).toThrow(/channel binding/);
    expect(() => new ScramServerExchange(v).clientFirst("garbage")).toThrow(PgError);
    expect(() => new ScramServerExchange(v).clientFirst("n,,n=,r=")).toThrow(/nonce/);
    const ex = new ScramServerExchange(v, serverPart);
    ex.clientFirst(clientFirst);
    await expect(ex.clientFinal(clientFinal.replace("r=rOpr", "r=XOpr"))).rejects.toThrow(/nonce/);
    await expect(ex.clientFinal("c=biws,r=x")).rejects.toMatchObject({ code: "08P01" });
    await expect(ex.clientFinal(clientFinal.replace("c=biws", "c=eSws"))).rejects.toThrow(/channel binding/);
  });

  it("uses a fresh random server nonce that extends the client's", async () => {
    const v = await makeVerifier("pencil", 4096, salt);
    const a = new ScramServerExchange(v).clientFirst(clientFirst);
    const b = new ScramServerExchange(v).clientFirst(clientFirst);
    expect(a).not.toBe(b);
    expect(a.startsWith("r=rOprNGfwEbeRWgbNEkqO")).toBe(true);
  });
});
