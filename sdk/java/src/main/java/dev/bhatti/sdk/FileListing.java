package dev.bhatti.sdk;

import java.util.Iterator;
import java.util.List;

/**
 * A guest directory's entries. The daemon lists a bounded number; {@code truncated} says when there were
 * more ({@code total} of them).
 */
public record FileListing(List<FileEntry> entries, long total, boolean truncated) implements Iterable<FileEntry> {
    public FileListing {
        entries = List.copyOf(entries);
    }

    @Override
    public Iterator<FileEntry> iterator() { return entries.iterator(); }

    /** The entry called {@code name}, if listed. */
    public java.util.Optional<FileEntry> find(String name) { return entries.stream().filter(e -> e.name().equals(name)).findFirst(); }
}
