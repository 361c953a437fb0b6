package dev.bhatti.cli;

import tools.jackson.databind.JsonNode;

/**
 * Follows a server task (a pull, a backup, a restore) to its end: a progress bar on a terminal, and
 * Ctrl-C cancels the task on the server, which removes what it had made.
 */
final class TaskFollow {
    private TaskFollow() {}

    /** The task once it is no longer running; {@code parts} names its parts in the bar (layers, volumes). */
    static JsonNode follow(ApiClient client, JsonNode task, boolean terminal, String parts) throws CliException, InterruptedException {
        String id = task.path("id").asString();
        var progress = new Progress(terminal, parts);
        Thread cancel = new Thread(() -> {
            try {
                client.delete("/tasks/" + ApiClient.segment(id));
            } catch (CliException e) {
                // the daemon is gone: nothing left to cancel
            }
        });
        Runtime.getRuntime().addShutdownHook(cancel);
        try {
            while (task.path("state").asString().equals("running")) {
                progress.show(task);
                Thread.sleep(250); // polling the server's task, not waiting for a local event
                task = client.get("/tasks/" + ApiClient.segment(id)).body();
            }
        } finally {
            Runtime.getRuntime().removeShutdownHook(cancel);
            progress.done();
        }
        return task;
    }

    /** One line on a terminal: phase, bytes and a bar. */
    static final class Progress {
        private final boolean terminal;
        private final String parts;
        private boolean drawn;

        Progress(boolean terminal, String parts) {
            this.terminal = terminal;
            this.parts = parts;
        }

        void show(JsonNode task) {
            if (!terminal) return;
            long done = task.path("bytes_done").asLong();
            long total = task.path("bytes_total").asLong();
            int n = task.path("parts").size();
            int complete = 0;
            for (JsonNode p : task.path("parts")) if (p.path("total").asLong() > 0 && p.path("done").asLong() >= p.path("total").asLong()) complete++;
            int width = 30;
            int filled = total == 0 ? 0 : (int) Math.min(width, done * width / total);
            System.err.printf("\r%-24s [%s%s] %s / %s%s  ", task.path("phase").asString(""), "#".repeat(filled),
                    " ".repeat(width - filled), ImageCmd.size(done), ImageCmd.size(total), n > 1 ? ", " + parts + " " + complete + "/" + n : "");
            drawn = true;
        }

        void done() {
            if (drawn) System.err.println();
        }
    }
}
