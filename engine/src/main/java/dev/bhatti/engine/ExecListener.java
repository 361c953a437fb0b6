package dev.bhatti.engine;

/** Receives a command's output as it arrives, in order. Called on one thread per exec. */
public interface ExecListener {
    void stdout(byte[] bytes);

    void stderr(byte[] bytes);

    ExecListener NONE = new ExecListener() {
        @Override public void stdout(byte[] bytes) { }
        @Override public void stderr(byte[] bytes) { }
    };
}
