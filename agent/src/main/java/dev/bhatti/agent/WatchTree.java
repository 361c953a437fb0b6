package dev.bhatti.agent;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

import static dev.bhatti.agent.Inotify.*;

/**
 * The inotify watches of one recursive watch and the translation of kernel events into {@link WatchEvent}s.
 * inotify watches one directory per watch descriptor, so every directory under the root gets one, and a
 * directory created later gets one when its creation is read. Entries made inside it before that (mkdir
 * -p a/b; touch a/b/f) are reported as "created" from a scan right after the watch is added; an entry
 * made in between can then be reported twice. Symbolic links are reported, never followed.
 */
final class WatchTree {

    private static final int CHANGES = IN_CREATE | IN_MODIFY | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO
            | IN_DELETE_SELF | IN_MOVE_SELF | IN_EXCL_UNLINK;
    private static final int FILE_CHANGES = IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
    /** Directories one watch follows at most (each costs the kernel about 1 KiB; the user's limit is shared). */
    static final int MAX_DIRS = 8192;

    private final Inotify inotify;
    private final Path root;
    private final boolean rootIsDir;
    private final LongSupplier clock;
    private final Map<Integer, Path> watched = new HashMap<>();
    private int rootWd = -1;
    private boolean rootGone;
    private boolean capReported;

    WatchTree(Inotify inotify, Path root, boolean rootIsDir, LongSupplier clock) {
        this.inotify = inotify;
        this.root = root;
        this.rootIsDir = rootIsDir;
        this.clock = clock;
    }

    /** Watches the root (and every directory under it); returns 0, or minus the errno if the root cannot be watched. */
    int start() throws IOException {
        int wd = inotify.addWatch(root.toString(), rootIsDir ? CHANGES | IN_ONLYDIR : FILE_CHANGES);
        if (wd < 0) return wd;
        rootWd = wd;
        watched.put(wd, root);
        if (rootIsDir) scan(root, null);
        return 0;
    }

    /** Set once the root itself was deleted or moved away: nothing more will come. */
    boolean rootGone() { return rootGone; }

    int directories() { return watched.size(); }

    /** Translates one kernel event, adding the events it means to {@code out}. */
    void translate(Inotify.Event e, List<WatchEvent> out) {
        long now = clock.getAsLong();
        if (e.is(IN_Q_OVERFLOW)) {
            out.add(new WatchEvent(WatchEvent.OVERFLOW, root.toString(), rootIsDir, now));
            return;
        }
        Path dir = watched.get(e.wd());
        if (dir == null) return; // a watch dropped a moment ago
        if (e.is(IN_IGNORED)) {
            watched.remove(e.wd());
            if (e.wd() == rootWd) rootGone = true;
            return;
        }
        if (e.name().isEmpty()) {
            if (e.wd() != rootWd) return; // a subdirectory's own change: its parent reports it
            if (e.is(IN_DELETE_SELF)) {
                out.add(new WatchEvent(WatchEvent.DELETED, root.toString(), rootIsDir, now));
                rootGone = true;
            } else if (e.is(IN_MOVE_SELF)) {
                out.add(new WatchEvent(WatchEvent.MOVED_FROM, root.toString(), rootIsDir, now));
                rootGone = true;
            } else if (e.is(IN_MODIFY | IN_ATTRIB)) {
                out.add(new WatchEvent(WatchEvent.MODIFIED, root.toString(), rootIsDir, now));
            }
            return;
        }
        Path p = dir.resolve(e.name());
        boolean isDir = e.is(IN_ISDIR);
        if (e.is(IN_CREATE)) {
            out.add(new WatchEvent(WatchEvent.CREATED, p.toString(), isDir, now));
            if (isDir) watchDirectory(p, out);
        } else if (e.is(IN_MOVED_TO)) {
            out.add(new WatchEvent(WatchEvent.MOVED_TO, p.toString(), isDir, now));
            if (isDir) watchDirectory(p, null);
        } else if (e.is(IN_MOVED_FROM)) {
            out.add(new WatchEvent(WatchEvent.MOVED_FROM, p.toString(), isDir, now));
            if (isDir) forget(p);
        } else if (e.is(IN_DELETE)) {
            out.add(new WatchEvent(WatchEvent.DELETED, p.toString(), isDir, now));
        } else if (e.is(IN_MODIFY | IN_ATTRIB)) {
            out.add(new WatchEvent(WatchEvent.MODIFIED, p.toString(), isDir, now));
        }
    }

    /** Watches a directory that appeared and everything under it; {@code found} (if not null) gets its entries as created. */
    private void watchDirectory(Path dir, List<WatchEvent> found) {
        if (!add(dir, found)) return;
        scan(dir, found);
    }

    private boolean add(Path dir, List<WatchEvent> out) {
        if (watched.size() >= MAX_DIRS) {
            if (!capReported && out != null) out.add(new WatchEvent(WatchEvent.OVERFLOW, dir.toString(), true, clock.getAsLong()));
            capReported = true;
            Log.info("watch of " + root + ": more than " + MAX_DIRS + " directories, " + dir + " is not watched");
            return false;
        }
        try {
            int wd = inotify.addWatch(dir.toString(), CHANGES | IN_ONLYDIR | IN_DONT_FOLLOW);
            if (wd < 0) return false; // gone already, or the user's inotify limit
            watched.put(wd, dir);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void scan(Path dir, List<WatchEvent> found) {
        var subdirs = new ArrayList<Path>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                boolean isDir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                if (found != null) found.add(new WatchEvent(WatchEvent.CREATED, p.toString(), isDir, clock.getAsLong()));
                if (isDir) subdirs.add(p);
            }
        } catch (IOException | RuntimeException e) {
            return; // removed meanwhile, or unreadable
        }
        for (Path sub : subdirs) if (add(sub, found)) scan(sub, found);
    }

    /** Stops watching a directory moved away and everything under it. */
    private void forget(Path dir) {
        for (var it = watched.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            if (entry.getKey() != rootWd && entry.getValue().startsWith(dir)) {
                inotify.removeWatch(entry.getKey());
                it.remove();
            }
        }
    }
}
