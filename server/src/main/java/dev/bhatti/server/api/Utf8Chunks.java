package dev.bhatti.server.api;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes a byte stream that arrives in arbitrary chunks into text, keeping a multi-byte character
 * that is split across two chunks whole. Invalid bytes become U+FFFD.
 */
final class Utf8Chunks {
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private ByteBuffer pending = ByteBuffer.allocate(0);

    String decode(byte[] chunk) {
        ByteBuffer in = ByteBuffer.allocate(pending.remaining() + chunk.length);
        in.put(pending).put(chunk).flip();
        CharBuffer out = CharBuffer.allocate(in.remaining() + 1);
        decoder.decode(in, out, false);
        pending = in.slice(); // at most 3 bytes of an unfinished character
        return out.flip().toString();
    }

    /** Whatever is left at the end of the stream (an unfinished character becomes U+FFFD). */
    String finish() {
        CharBuffer out = CharBuffer.allocate(pending.remaining() + 1);
        decoder.decode(pending, out, true);
        decoder.flush(out);
        pending = ByteBuffer.allocate(0);
        return out.flip().toString();
    }
}
