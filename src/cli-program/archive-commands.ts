import type { ArchiveFlags } from "../commands/archive.js";
import type { ExportFlags } from "../commands/export.js";
import type { QueryFlags } from "../commands/query.js";
import { archiveDirFlag, archiveReadDirFlag, collectCommunity, logLevelFlag, natsFlag, natsSecurityFlags } from "../cli/common-options.js";
import { type CommandSpec, durationFlag, optionTable } from "../cli/option-table.js";
import { archiveTime } from "../cli/options.js";

/**
 * The archive's commands (issue 22): the service that writes it, and the two that read it, as
 * data: one option table per command, typed against its flags, and a lazy import of the command.
 */

/** `ecwatch archive`: every valid reading into Parquet segments (issue 22). */
export const archive: CommandSpec<ArchiveFlags> = {
  name: "archive",
  description: "keep every valid reading: Parquet segments community_id=<id>/date=<YYYY-MM-DD>/ in a directory, for `ecwatch query` and any engine that reads Parquet",
  options: optionTable<ArchiveFlags>()({
    nats: natsFlag,
    dir: archiveDirFlag,
    flushEvery: durationFlag("--flush-every <duration>", "write what waits at least this often (sooner by size)", { min: 100, default: 10_000 }),
    retentionAge: durationFlag("--retention-age <duration>", "remove the days of its partitions that ended more than this long ago (default: keep every day)"),
    logLevel: logLevelFlag,
    ...natsSecurityFlags,
  }),
  examples: ["ecwatch archive", "ecwatch archive --dir /var/lib/ecwatch/archive --nats nats://10.0.0.5:4222 --retention-age 400d", 'ecwatch query "SELECT count(*) FROM readings"'],
  run: async (flags) => (await import("../commands/archive.js")).runArchive(flags),
};

/** `ecwatch query`: read-only SQL over the archive (issue 22). */
export const query: CommandSpec<QueryFlags, string | undefined> = {
  name: "query",
  description: "read-only SQL (DuckDB) over the archive that `ecwatch archive` (and `ecwatch up`) writes",
  argument: { name: "[sql]", description: "one SELECT, e.g. \"SELECT meter_id, max(gen_w) FROM readings GROUP BY ALL\"", parse: (value) => value },
  options: optionTable<QueryFlags>()({
    dir: archiveReadDirFlag,
    json: { flags: "--json", description: "print the rows as a JSON array", conflicts: ["csv"] },
    csv: { flags: "--csv", description: "print the rows as CSV, written by DuckDB itself (the fast way out for large results)" },
    schema: { flags: "--schema", description: "print the tables and views, each with a line on what it holds" },
  }),
  examples: [
    'ecwatch query "SELECT count(*) FROM readings"',
    "ecwatch query \"SELECT * FROM readings WHERE meter_id = 'meter017' AND measured_at >= current_date ORDER BY measured_at\"",
    "ecwatch query --json \"SELECT meter_id, sum(gen_w - con_w) AS surplus FROM readings GROUP BY ALL ORDER BY surplus DESC LIMIT 5\"",
    "ecwatch query --schema",
  ],
  run: async (flags, sql) => (await import("../commands/query.js")).runQuery(sql, flags),
};

/** `ecwatch export`: the archive over a range of time, as Parquet in the same layout (issue 22). */
export const exportCommand: CommandSpec<ExportFlags> = {
  name: "export",
  description: "write the archive's readings of a range [from, to) as Parquet in the same layout (community_id=<id>/date=<YYYY-MM-DD>/) to a new folder: whole days copied, the first and last filtered",
  options: optionTable<ExportFlags>()({
    dir: archiveReadDirFlag,
    from: { flags: "--from <time>", description: "start (included): ISO-8601 with a zone, a date (00:00 UTC), or relative like -24h", parse: archiveTime },
    to: { flags: "--to <time>", description: "end (excluded): as --from, or now", parse: archiveTime, default: "now" },
    community: { flags: "--community <id>", description: "only this community, repeatable (default: all)", parse: collectCommunity },
    out: { flags: "--out <dir>", description: "where to write: a new or empty folder outside the archive" },
    json: { flags: "--json", description: "print a summary {files, rows, bytes, copied, filtered} as JSON" },
  }),
  examples: [
    "ecwatch export --from -24h --out last-day/",
    "ecwatch export --from 2026-06-01 --to 2026-07-01 --community community1 --out june/",
    "ecwatch export --dir /var/lib/ecwatch/archive --from 2026-06-21T06:00:00Z --to 2026-06-21T18:00:00Z --out daylight/ --json",
    "ecwatch query --dir june/ \"SELECT meter_id, count(*) FROM readings GROUP BY ALL\"",
  ],
  run: async (flags) => (await import("../commands/export.js")).runExport(flags),
};
