package dev.bhatti.cli;

/** A tool call that failed in a way the model should read: it becomes a result with {@code isError: true}. */
final class McpToolError extends Exception {
    McpToolError(String message) { super(message); }

    /** The daemon's refusal (or the failure to reach it), with what a model can do next. */
    static McpToolError from(CliException e) {
        String said = e.daemonMessage();
        int status = e.httpStatus();
        String text = switch (status) {
            case 0 -> said + ". The MCP server could not talk to the bhatti daemon; retrying later may work, otherwise tell the user"
                    + " (the daemon may be down, or the URL the server was started with is wrong).";
            case 400 -> "The daemon refused the request (400): " + said + ". Fix the arguments and call again.";
            case 401 -> "The daemon did not accept the API key (401): " + said + ". The key is the one this MCP server was started with"
                    + " (BHATTI_TOKEN or ~/.bhatti/config.yaml); retrying will not help: ask the user to fix it.";
            case 403 -> "Not allowed (403): " + said + ". This API key may not do that.";
            case 404 -> "Not found (404): " + said + ". Call list to see the sandboxes this key can use (names are exact).";
            case 409 -> "Conflict (409): " + said + ". The sandbox may be in a state that does not allow this (list shows each status;"
                    + " start wakes a stopped one), or a name is already taken (choose another).";
            case 413 -> "Too large (413): " + said + ".";
            case 429 -> "Too many requests or over quota (429): " + said + ". Wait a little and retry, or destroy sandboxes"
                    + " you no longer need.";
            default -> status >= 500
                    ? "The daemon failed (" + status + "): " + said + ". Retrying may work; if it keeps failing, tell the user."
                    : "The daemon answered " + status + ": " + said + ".";
        };
        return new McpToolError(text);
    }
}
