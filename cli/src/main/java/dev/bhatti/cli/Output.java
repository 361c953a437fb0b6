package dev.bhatti.cli;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.ArrayList;

/** Human and JSON rendering of API answers. */
final class Output {
    private Output() {}

    static void json(JsonNode node) {
        System.out.println(ApiClient.JSON.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(node));
    }

    static void table(List<String> header, List<List<String>> rows) {
        int[] width = new int[header.size()];
        for (int i = 0; i < width.length; i++) width[i] = header.get(i).length();
        for (var r : rows) for (int i = 0; i < width.length; i++) width[i] = Math.max(width[i], r.get(i).length());
        var all = new ArrayList<List<String>>();
        all.add(header);
        all.addAll(rows);
        for (var r : all) {
            var line = new StringBuilder();
            for (int i = 0; i < width.length; i++) {
                line.append(r.get(i));
                if (i < width.length - 1) line.append(" ".repeat(width[i] - r.get(i).length() + 3));
            }
            System.out.println(line.toString().stripTrailing());
        }
    }

    static String age(String createdAt) {
        try {
            Duration d = Duration.between(Instant.parse(createdAt), Instant.now());
            if (d.toDays() > 0) return d.toDays() + "d";
            if (d.toHours() > 0) return d.toHours() + "h";
            if (d.toMinutes() > 0) return d.toMinutes() + "m";
            return Math.max(0, d.toSeconds()) + "s";
        } catch (RuntimeException e) {
            return "?";
        }
    }

    static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isMissingNode() || v.isNull() ? "-" : v.asString();
    }
}
