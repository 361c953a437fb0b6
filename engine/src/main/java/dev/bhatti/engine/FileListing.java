package dev.bhatti.engine;

import java.util.List;

/** Entries of a guest directory; {@code total} exceeds the entries' count when the listing was cut. */
public record FileListing(List<GuestFile> entries, long total) {
    public FileListing { entries = List.copyOf(entries); }
}
