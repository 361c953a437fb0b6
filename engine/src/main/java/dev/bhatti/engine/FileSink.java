package dev.bhatti.engine;

import java.io.IOException;

/** Receives a guest file being read: its metadata first, then its bytes in order. */
public interface FileSink {
    void begin(GuestFile file) throws IOException;

    void data(byte[] bytes) throws IOException;
}
