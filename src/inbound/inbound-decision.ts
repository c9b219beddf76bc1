// Which senders the inbound gateway accepts as proof of possession of a phone. Pure.
/** Reported line types that cannot prove possession of a personal phone. */
const REFUSED_LINE_TYPES = new Set(["voip", "landline", "wireline", "fixed", "fixed_line", "fixed-line", "toll_free", "premium", "pager"]);

export function isRefusedLineType(lineType: string | undefined): boolean {
  return lineType !== undefined && REFUSED_LINE_TYPES.has(lineType.trim().toLowerCase().replace(/\s+/g, "_"));
}
