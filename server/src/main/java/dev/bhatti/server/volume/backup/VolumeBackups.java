package dev.bhatti.server.volume.backup;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongConsumer;

/**
 * Incremental, deduplicated, encrypted backups of volume files to an S3-compatible store.
 * <p>
 * A backup cuts the file into fixed chunks; an all-zero chunk is a hole and is not stored; any other is
 * named by its HMAC (see {@link BackupKey}) and uploaded, age-encrypted, only if the user's store lacks it,
 * so a second backup sends what changed and two volumes share what they have in common. The manifest goes
 * last: a backup that dies midway leaves only unreferenced chunks, which the next garbage collection of
 * that user removes.
 * <p>
 * Thread-safe. Per user, backups and restores share a lock that deletions and garbage collection take
 * exclusively, so a collection never removes a chunk that a backup in flight counted on (in this process;
 * two daemons on one prefix would need more).
 */
public final class VolumeBackups implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(VolumeBackups.class);
    /** Chunks uploaded or downloaded at once; a few suffice to hide the store's latency behind hashing and age. */
    public static final int DEFAULT_PARALLELISM = 8;
    private static final String MANIFEST = ".manifest";

    private final BackupStore store;
    private final BackupKey key;
    private final int chunkSize;
    private final int parallelism;
    private final Clock clock;
    private final byte[] zeros;
    private final Map<String, ReentrantReadWriteLock> locks = new ConcurrentHashMap<>();

    public VolumeBackups(BackupConfig config, BackupConfig.Credentials credentials, BackupKey key) {
        this(config, credentials, key, DEFAULT_PARALLELISM, Clock.systemUTC());
    }

    public VolumeBackups(BackupConfig config, BackupConfig.Credentials credentials, BackupKey key, int parallelism, Clock clock) {
        if (parallelism < 1) throw new IllegalArgumentException("parallelism must be >= 1");
        this.store = new BackupStore(config, credentials);
        this.key = key;
        this.chunkSize = config.chunkSize();
        this.parallelism = parallelism;
        this.clock = clock;
        this.zeros = new byte[chunkSize];
    }

    /** Fails with UNAVAILABLE unless the bucket exists and the credentials may use it: worth a log line at startup. */
    public void check() { store.check(); }

    /**
     * Backs up {@code file} as a new backup of the user's volume. {@code progressBytes} hears how many bytes
     * of the file have been read so far (uploads trail by a few chunks); if it throws, the backup stops,
     * is not listed, and fails with FAILED.
     */
    public BackupInfo backup(String userId, String volumeName, Path file, LongConsumer progressBytes) {
        BackupNames.user(userId);
        BackupNames.volume(volumeName);
        long started = System.nanoTime();
        Instant createdAt = clock.instant();
        Lock shared = lock(userId).readLock();
        shared.lock();
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            Set<String> stored = ConcurrentHashMap.newKeySet();
            stored.addAll(store.chunkIds(userId));
            long size = in.size();
            String[] ids = new String[Manifest.chunkCount(size, chunkSize)];
            var uploadedChunks = new AtomicInteger();
            var uploadedBytes = new AtomicLong();
            MessageDigest whole = sha256();
            var failure = new AtomicReference<Throwable>();
            // a buffer per chunk in flight: reading waits for one, which bounds memory and parallelism together
            BlockingQueue<byte[]> buffers = new ArrayBlockingQueue<>(parallelism + 1);
            for (int i = 0; i <= parallelism; i++) buffers.add(new byte[chunkSize]);
            try (ExecutorService uploads = Executors.newVirtualThreadPerTaskExecutor()) {
                try {
                    for (int i = 0; i < ids.length && failure.get() == null; i++) {
                        long pos = (long) i * chunkSize;
                        int len = (int) Math.min(chunkSize, size - pos);
                        byte[] buf = buffers.take();
                        readFully(in, buf, len, pos, file);
                        whole.update(buf, 0, len);
                        if (Arrays.mismatch(buf, 0, len, zeros, 0, len) < 0) {
                            buffers.add(buf); // a hole: ids[i] stays null
                        } else {
                            int index = i;
                            uploads.submit(() -> {
                                try {
                                    if (failure.get() != null) return;
                                    String chunkId = key.chunkId(buf, 0, len);
                                    ids[index] = chunkId;
                                    if (stored.add(chunkId)) {
                                        byte[] sealed = key.encrypt(buf, 0, len);
                                        store.put(store.chunkKey(userId, chunkId), sealed, Map.of());
                                        uploadedChunks.incrementAndGet();
                                        uploadedBytes.addAndGet(sealed.length);
                                    }
                                } catch (Throwable t) {
                                    failure.compareAndSet(null, t);
                                } finally {
                                    buffers.add(buf);
                                }
                            });
                        }
                        progressBytes.accept(pos + len);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t); // queued uploads see it and do nothing
                }
            } // waits for the uploads in flight: none may outlive the lock
            if (failure.get() != null) throw backupFailure(failure.get(), volumeName, file);
            long millis = (System.nanoTime() - started) / 1_000_000;
            var manifest = new Manifest(volumeName, userId, createdAt, size, chunkSize, Arrays.asList(ids),
                    HexFormat.of().formatHex(whole.digest()), uploadedChunks.get(), uploadedBytes.get(), millis);
            String id = BackupNames.newBackupId(createdAt);
            while (store.head(store.manifestKey(userId, volumeName, id)).isPresent()) id = BackupNames.newBackupId(createdAt); // same second
            store.put(store.manifestKey(userId, volumeName, id), key.encrypt(manifest.toJson()), manifest.metadata());
            LOG.info("backup {} of volume {} (user {}): {} bytes in {} chunks, {} new ({} bytes sent), {} ms", id, volumeName, userId,
                    size, ids.length, uploadedChunks.get(), uploadedBytes.get(), millis);
            return manifest.info(id);
        } catch (IOException e) {
            throw BackupException.failed("cannot read volume file " + file + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw BackupException.failed("encrypting the manifest of volume " + volumeName + " failed: " + e.getMessage(), e);
        } finally {
            shared.unlock();
        }
    }

    /** The volume's backups, newest first. */
    public List<BackupInfo> list(String userId, String volumeName) {
        BackupNames.user(userId);
        BackupNames.volume(volumeName);
        String prefix = store.backupsPrefix(userId, volumeName);
        List<String> ids = store.keys(prefix).stream().filter(k -> k.endsWith(MANIFEST))
                .map(k -> k.substring(prefix.length(), k.length() - MANIFEST.length()))
                .filter(id -> BackupNames.BACKUP_ID.matcher(id).matches())
                .sorted(Comparator.reverseOrder()).toList();
        return inParallel(ids, id -> find(userId, volumeName, id)).stream().flatMap(Optional::stream).toList();
    }

    /** One backup of the volume, empty when there is none of that id. */
    public Optional<BackupInfo> find(String userId, String volumeName, String backupId) {
        BackupNames.user(userId);
        BackupNames.volume(volumeName);
        if (!BackupNames.BACKUP_ID.matcher(backupId == null ? "" : backupId).matches()) return Optional.empty();
        String manifestKey = store.manifestKey(userId, volumeName, backupId);
        return store.head(manifestKey).map(meta -> Manifest.fromMetadata(backupId, volumeName, meta)
                .orElseGet(() -> manifest(userId, volumeName, backupId).info(backupId)));
    }

    /**
     * Restores a backup onto {@code target}: written to {@code target.restore-tmp} (holes left sparse), every
     * chunk decrypted and checked against its id, the whole file against the manifest's SHA-256, synced,
     * then moved onto {@code target} in one step. On any failure the temporary file is gone and
     * {@code target} is as it was. {@code progress} hears the bytes of the file done so far.
     */
    public void restore(String userId, String volumeName, String backupId, Path target, LongConsumer progress) {
        BackupNames.user(userId);
        BackupNames.volume(volumeName);
        BackupNames.backupId(backupId);
        Path tmp = target.resolveSibling(target.getFileName() + ".restore-tmp");
        Lock shared = lock(userId).readLock();
        shared.lock();
        try {
            Manifest m = manifest(userId, volumeName, backupId);
            Files.deleteIfExists(tmp);
            Files.createFile(tmp);
            if (Files.exists(target)) Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target));
            try (var raf = new RandomAccessFile(tmp.toFile(), "rw")) {
                raf.setLength(m.sizeBytes()); // sparse: only chunks are written
                writeChunks(userId, backupId, m, raf.getChannel(), tmp, progress);
                raf.getChannel().force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDirectory(target.toAbsolutePath().getParent());
            LOG.info("restored backup {} of volume {} (user {}) onto {}", backupId, volumeName, userId, target);
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                t.addSuppressed(e);
            }
            if (t instanceof BackupException b) throw b;
            if (t instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw BackupException.failed("restore of backup " + backupId + " was interrupted; " + target + " is untouched", t);
            }
            throw BackupException.failed("restoring backup " + backupId + " of volume " + volumeName + " to " + target + " failed: "
                    + t.getMessage() + "; " + target + " is untouched", t);
        } finally {
            shared.unlock();
        }
    }

    /** Deletes one backup, then the user's chunks that no remaining backup uses. */
    public void delete(String userId, String volumeName, String backupId) {
        BackupNames.user(userId);
        BackupNames.volume(volumeName);
        BackupNames.backupId(backupId);
        Lock exclusive = lock(userId).writeLock();
        exclusive.lock();
        try {
            String manifestKey = store.manifestKey(userId, volumeName, backupId);
            if (store.head(manifestKey).isEmpty()) throw BackupException.notFound("volume " + volumeName + " has no backup " + backupId);
            store.delete(manifestKey);
            collectGarbageLocked(userId);
        } finally {
            exclusive.unlock();
        }
    }

    /** Keeps the newest {@code keep} backups of the volume, deletes the others, then collects garbage once; returns the ids deleted. */
    public List<String> retain(String userId, String volumeName, int keep) {
        if (keep < 1) throw new IllegalArgumentException("keep must be >= 1");
        Lock exclusive = lock(userId).writeLock();
        exclusive.lock();
        try {
            List<BackupInfo> all = list(userId, volumeName);
            List<String> doomed = all.stream().skip(keep).map(BackupInfo::id).toList();
            if (doomed.isEmpty()) return List.of();
            store.deleteAll(doomed.stream().map(id -> store.manifestKey(userId, volumeName, id)).toList());
            collectGarbageLocked(userId);
            return doomed;
        } finally {
            exclusive.unlock();
        }
    }

    /** Deletes the user's chunks that no manifest of theirs (any volume) refers to; returns how many. */
    public int collectGarbage(String userId) {
        BackupNames.user(userId);
        Lock exclusive = lock(userId).writeLock();
        exclusive.lock();
        try {
            return collectGarbageLocked(userId);
        } finally {
            exclusive.unlock();
        }
    }

    private int collectGarbageLocked(String userId) {
        String volumes = store.volumesPrefix(userId);
        List<String> manifests = store.keys(volumes).stream().filter(k -> k.endsWith(MANIFEST)).toList();
        Set<String> used = new HashSet<>();
        // an unreadable manifest stops the collection: its chunks must not be taken for garbage
        for (List<String> chunks : inParallel(manifests, k -> readManifest(k, k).chunks())) used.addAll(chunks);
        Set<String> orphans = new HashSet<>(store.chunkIds(userId));
        orphans.removeAll(used);
        store.deleteAll(orphans.stream().map(id -> store.chunkKey(userId, id)).toList());
        if (!orphans.isEmpty()) LOG.info("deleted {} unused backup chunk(s) of user {}", orphans.size(), userId);
        return orphans.size();
    }

    private Manifest manifest(String userId, String volumeName, String backupId) {
        Manifest m = readManifest(store.manifestKey(userId, volumeName, backupId), "backup " + backupId + " of volume " + volumeName);
        if (!m.user().equals(userId) || !m.volume().equals(volumeName)) {
            throw BackupException.corrupt("backup " + backupId + " of volume " + volumeName + " holds the manifest of volume "
                    + m.volume() + " of user " + m.user());
        }
        return m;
    }

    private Manifest readManifest(String manifestKey, String what) {
        byte[] sealed = store.get(manifestKey).orElseThrow(() -> BackupException.notFound(what + " does not exist"));
        try {
            return Manifest.parse(key.decrypt(sealed));
        } catch (GeneralSecurityException e) {
            throw BackupException.corrupt("the manifest of " + what + " cannot be decrypted with " + BackupKey.KEY_FILE
                    + " (altered, or made with another key): " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw BackupException.corrupt("the manifest of " + what + " is invalid: " + e.getMessage(), e);
        }
    }

    /** Downloads the chunks a few at a time and writes them in order, hashing the whole file as it goes. */
    private void writeChunks(String userId, String backupId, Manifest m, FileChannel out, Path tmp, LongConsumer progress)
            throws IOException, InterruptedException {
        MessageDigest whole = sha256();
        List<String> chunks = m.chunks();
        var window = new ArrayDeque<Future<byte[]>>();
        try (ExecutorService downloads = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                int next = 0;
                for (int i = 0; i < chunks.size(); i++) {
                    for (; next < chunks.size() && next < i + 2 * parallelism; next++) {
                        String chunkId = chunks.get(next);
                        int len = (int) Math.min(m.chunkSize(), m.sizeBytes() - (long) next * m.chunkSize());
                        window.add(chunkId == null ? CompletableFuture.completedFuture(null)
                                : downloads.submit(() -> fetchChunk(userId, backupId, chunkId, len)));
                    }
                    long pos = (long) i * m.chunkSize();
                    int len = (int) Math.min(m.chunkSize(), m.sizeBytes() - pos);
                    byte[] plain = await(window.poll());
                    if (plain == null) {
                        whole.update(zeros, 0, len);
                    } else {
                        whole.update(plain);
                        ByteBuffer b = ByteBuffer.wrap(plain);
                        while (b.hasRemaining()) out.write(b, pos + b.position());
                    }
                    progress.accept(pos + len);
                }
            } finally {
                window.forEach(f -> f.cancel(true));
            }
        }
        if (!HexFormat.of().formatHex(whole.digest()).equals(m.sha256())) {
            throw BackupException.corrupt("backup " + backupId + " restored to a file whose SHA-256 differs from its manifest's");
        }
    }

    private byte[] fetchChunk(String userId, String backupId, String chunkId, int len) {
        byte[] sealed = store.get(store.chunkKey(userId, chunkId))
                .orElseThrow(() -> BackupException.corrupt("backup " + backupId + " is damaged: its chunk " + chunkId + " is missing from the store"));
        byte[] plain;
        try {
            plain = key.decrypt(sealed);
        } catch (GeneralSecurityException e) {
            throw BackupException.corrupt("backup " + backupId + " is damaged: its chunk " + chunkId + " does not decrypt ("
                    + e.getMessage() + ")", e);
        }
        if (plain.length != len || !key.chunkId(plain, 0, plain.length).equals(chunkId)) {
            throw BackupException.corrupt("backup " + backupId + " is damaged: its chunk " + chunkId + " does not match its id");
        }
        return plain;
    }

    private static byte[] await(Future<byte[]> f) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw BackupException.failed(e.getCause().getMessage(), e.getCause());
        }
    }

    private BackupException backupFailure(Throwable t, String volumeName, Path file) {
        return switch (t) {
            case BackupException b -> b;
            case InterruptedException i -> {
                Thread.currentThread().interrupt();
                yield BackupException.failed("backup of volume " + volumeName + " was interrupted", i);
            }
            case IOException e -> BackupException.failed("cannot read volume file " + file + ": " + e.getMessage(), e);
            default -> BackupException.failed("backup of volume " + volumeName + " stopped: " + t.getMessage(), t);
        };
    }

    /** Runs {@code task} on each item, a few at a time, in the items' order; the first failure is thrown. */
    private <T, R> List<R> inParallel(List<T> items, java.util.function.Function<T, R> task) {
        var limit = new java.util.concurrent.Semaphore(parallelism);
        var futures = new ArrayList<Future<R>>(items.size());
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (T item : items) {
                futures.add(pool.submit(() -> {
                    limit.acquire();
                    try {
                        return task.apply(item);
                    } finally {
                        limit.release();
                    }
                }));
            }
            var out = new ArrayList<R>(items.size());
            for (Future<R> f : futures) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    futures.forEach(x -> x.cancel(true));
                    if (e.getCause() instanceof RuntimeException r) throw r;
                    throw BackupException.failed(e.getCause().getMessage(), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    futures.forEach(x -> x.cancel(true));
                    throw BackupException.failed("interrupted", e);
                }
            }
            return out;
        }
    }

    private static void readFully(FileChannel in, byte[] buf, int len, long pos, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, len);
        while (b.hasRemaining()) {
            if (in.read(b, pos + b.position()) < 0) throw new EOFException(file + " shrank while it was being backed up");
        }
    }

    private static void syncDirectory(Path dir) {
        try (var c = FileChannel.open(dir, StandardOpenOption.READ)) {
            c.force(true);
        } catch (IOException e) {
            LOG.debug("could not sync directory {}: {}", dir, e.getMessage()); // not all file systems allow it
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private ReentrantReadWriteLock lock(String userId) {
        return locks.computeIfAbsent(userId, u -> new ReentrantReadWriteLock());
    }

    @Override
    public void close() { store.close(); }
}
