import { formatKw } from "../cli/output.js";
/** One human-readable line of an aggregate, e.g. for `ecwatch tail`. */
export function formatAggregateLine(aggregate, colors) {
    const time = aggregate.measuredAt.slice(11, 19) || "--:--:--";
    const surplus = aggregate.netW >= 0;
    const balance = surplus ? colors.green(`surplus ${formatKw(aggregate.netW)}`) : colors.red(`deficit ${formatKw(-aggregate.netW)}`);
    const stale = aggregate.stale ? colors.yellow(` stale ${aggregate.stale}`) : "";
    return `${time}  ${aggregate.communityId}  ${balance}  gen ${formatKw(aggregate.genW)}  con ${formatKw(aggregate.conW)}  meters ${aggregate.meters}${stale}  ${colors.dim(`v${aggregate.version}`)}`;
}
/** Delay before reconnect attempt `attempt` (1, 2, …): doubling from 500 ms up to 30 s. */
export function backoffMs(attempt) {
    return Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
}
