package dev.bhatti.cli;

import org.opentest4j.TestAbortedException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * Adds the end of each running daemon's log to a test's failure. CI shows little more than the failure
 * messages, and a failed command's exit code says nothing of why the daemon refused it.
 */
final class DaemonLogOnFailure implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {
    static final int LINES = 40;

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        throw withLogs(failure);
    }

    @Override
    public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        throw withLogs(failure);
    }

    @Override
    public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        throw withLogs(failure);
    }

    private static Throwable withLogs(Throwable failure) {
        if (failure instanceof TestAbortedException) return failure; // an assumption that does not hold: skipped, not failed
        var logs = new StringBuilder();
        for (var daemon : BhattiProcess.Daemon.RUNNING) {
            try {
                logs.append("\n--- last ").append(LINES).append(" lines of ").append(daemon.dataDir.resolve("daemon.log"))
                        .append('\n').append(daemon.logTail(LINES));
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
        }
        if (logs.isEmpty()) return failure;
        // Same kind (failure or error) and place as the original, so the report reads as before, plus the logs.
        Throwable shown = failure instanceof AssertionError
                ? new AssertionError(failure.getMessage() + logs, failure)
                : new RuntimeException(failure + logs.toString(), failure);
        shown.setStackTrace(failure.getStackTrace());
        return shown;
    }
}
