package dev.bhatti.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The small guest files every exec consults (passwd, group, the sandbox environment, its secrets, the
 * image defaults), read again only when they change: one stat instead of an open, a read and a parse,
 * which an emulated CPU pays in milliseconds per exec. A change is a new inode (the host and the shadow
 * tools replace such files by renaming), size or modification time; a file modified in the last two
 * seconds is always read again, since a same-size edit within one tick of the kernel's clock keeps the
 * time it had.
 */
final class CachedFile {

    private record Entry(Object inode, long size, FileTime modified, String text) {}

    private static final long RECENT_MILLIS = 2_000;
    private static final Map<Path, Entry> CACHE = new ConcurrentHashMap<>();

    private CachedFile() {}

    /** The file's text (UTF-8); throws as {@link Files#readString} does when it is missing or unreadable. */
    static String read(Path file) throws IOException {
        BasicFileAttributes now;
        try {
            now = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            CACHE.remove(file);
            throw e;
        }
        Entry cached = CACHE.get(file);
        if (cached != null && cached.size == now.size() && cached.modified.equals(now.lastModifiedTime())
                && Objects.equals(cached.inode, now.fileKey())) {
            return cached.text;
        }
        String text = Files.readString(file);
        if (now.fileKey() != null && System.currentTimeMillis() - now.lastModifiedTime().toMillis() > RECENT_MILLIS) {
            CACHE.put(file, new Entry(now.fileKey(), now.size(), now.lastModifiedTime(), text));
        } else {
            CACHE.remove(file);
        }
        return text;
    }
}
