package dev.bhatti.agent;

import java.time.Instant;

/** One change under a watched path, as the API shows it: one JSON object a line. */
record WatchEvent(String type, String path, boolean isDir, long timeMillis) {

    static final String CREATED = "created", MODIFIED = "modified", DELETED = "deleted", MOVED_FROM = "moved_from",
            MOVED_TO = "moved_to", OVERFLOW = "overflow";

    String json() {
        var sb = new StringBuilder(path.length() + 96);
        sb.append("{\"type\":\"").append(type).append("\",\"path\":");
        quote(sb, path);
        sb.append(",\"is_dir\":").append(isDir).append(",\"time\":\"").append(Instant.ofEpochMilli(timeMillis)).append("\"}\n");
        return sb.toString();
    }

    static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
