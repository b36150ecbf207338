// The parse-tree node names of the DDL statements the DDL binder (ddl/statement.ts) binds: what the
// statement runner sends there (runnable.ts), and the core of what the protocols call DDL
// (statement-info.ts adds the DDL that runs elsewhere: CREATE TABLE AS, GRANT, ALTER … OWNER).
export const BOUND_DDL_NODES: ReadonlySet<string> = new Set([
  "CreateStmt",
  "IndexStmt",
  "DropStmt",
  "AlterTableStmt",
  "ViewStmt",
  "CreateSeqStmt",
  "AlterSeqStmt",
  "CreateSchemaStmt",
  "TruncateStmt",
  "RenameStmt",
  "CommentStmt",
  "CreateEnumStmt",
  "CreateDomainStmt",
  "CreateFunctionStmt",
  "CreateTrigStmt",
  "AlterEnumStmt",
]);
