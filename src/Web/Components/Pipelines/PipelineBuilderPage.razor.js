// The browser's IANA time zone, so the cron helper can show fire times in the user's own zone.
export function timeZone() {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
