/**
 * The start of the UTC day and of the ISO week (Monday, UTC) that contain `now`: the windows of
 * "used today" and "used this week". UTC because the account has no time zone yet.
 * @internal
 */
export function usageWindows(now: Date): { readonly dayStart: Date; readonly weekStart: Date } {
  const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const daysSinceMonday = (dayStart.getUTCDay() + 6) % 7;
  const weekStart = new Date(dayStart.getTime() - daysSinceMonday * 86_400_000);
  return { dayStart, weekStart };
}
