package dev.bhatti.server.image.layers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A path inside an image's root filesystem, resolved as the guest will resolve it: symlinks are
 * followed, but an absolute target means the image's root and ".." stops at it. So a layer can never
 * make extraction write outside the root, whatever symlinks an earlier layer planted (the classic
 * {@code evil -> /etc} then {@code evil/passwd}).
 */
public final class RootPath {
    /** Link hops one resolution may take (Linux allows 40). */
    static final int MAX_LINKS = 40;

    private RootPath() {}

    /**
     * The host path of {@code name} (a tar entry name, relative or absolute) inside {@code root}. The
     * final component is not followed when it is a symlink (the caller replaces or reads it as a link);
     * every parent is.
     */
    public static Path resolve(Path root, String name) throws IOException {
        Deque<String> todo = new ArrayDeque<>();
        push(todo, name);
        Deque<String> done = new ArrayDeque<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.pop();
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (!done.isEmpty()) done.removeLast();
                continue;
            }
            Path here = join(root, done).resolve(c);
            if (!todo.isEmpty() && Files.isSymbolicLink(here)) { // a parent: follow it, inside the root
                if (++links > MAX_LINKS) throw new IOException("too many symlinks resolving " + name);
                String target = Files.readSymbolicLink(here).toString();
                if (target.startsWith("/")) done.clear();
                push(todo, target);
                continue;
            }
            done.addLast(c);
        }
        Path p = join(root, done);
        if (!p.normalize().startsWith(root.normalize())) throw new IOException(name + " resolves outside the image's root");
        return p;
    }

    /** Whether {@code p} (a resolved path) is an existing directory, not through a final symlink. */
    public static boolean isDirectory(Path p) { return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS); }

    private static void push(Deque<String> todo, String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) todo.push(parts[i]);
    }

    private static Path join(Path root, Deque<String> components) {
        Path p = root;
        for (String c : components) p = p.resolve(c);
        return p;
    }
}
