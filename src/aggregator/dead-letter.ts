import { deadLetterKind } from "../wire/names.js";
import type { AggregatorStats } from "./options.js";
import type { DeadLetter, ReadingMessage } from "./ports.js";

const DEAD_LETTER_DATA_LIMIT = 64 * 1024;

/** What goes to the dead letters for `msg`, with the reason it cannot be aggregated. */
export function deadLetterOf(msg: ReadingMessage, reason: string): DeadLetter {
  return { reason, subject: msg.subject, data: msg.string().slice(0, DEAD_LETTER_DATA_LIMIT) };
}

/** Counts a stored dead letter, and apart those whose subject is not a reading subject. */
export function countDeadLetter(stats: AggregatorStats, deadLetter: DeadLetter): void {
  stats.deadLetters += 1;
  if (deadLetterKind(deadLetter.subject) === "subject") stats.notReadingSubjects += 1;
}
