package dev.bhatti.testkit;

import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * An S3-compatible server (s3proxy) on a real loopback port, so that tests in this JVM and a daemon in
 * another one can both reach it. Objects lie in files under a directory (no heap limit on sizes); one
 * bucket exists from the start; requests must be SigV4-signed with {@link #accessKey}/{@link #secretKey}.
 * <pre>
 * try (var s3 = LocalS3.start(dir)) { ... s3.endpoint(), s3.bucket(), s3.accessKey(), s3.secretKey() ... }
 * </pre>
 */
public final class LocalS3 implements AutoCloseable {

    public static final String ACCESS_KEY = "bhatti-test-access";
    public static final String SECRET_KEY = "bhatti-test-secret-0123456789";
    public static final String BUCKET = "bhatti-backups";
    public static final String REGION = "us-east-1";

    private final S3Proxy proxy;
    private final BlobStore store;
    private final Path dir;

    private LocalS3(S3Proxy proxy, BlobStore store, Path dir) {
        this.proxy = proxy;
        this.store = store;
        this.dir = dir;
    }

    /** Serves objects kept under {@code dir} (created if missing) on an ephemeral loopback port. */
    public static LocalS3 start(Path dir) throws Exception {
        return start(dir, 0);
    }

    /** As {@link #start(Path)} on a given port (0: any free one); the same dir and port serve the same objects again after a restart. */
    public static LocalS3 start(Path dir, int port) throws Exception {
        Files.createDirectories(dir);
        var props = new Properties();
        props.setProperty("jclouds.filesystem.basedir", dir.toRealPath().toString());
        props.setProperty("jclouds.identity", ACCESS_KEY);
        props.setProperty("jclouds.credential", SECRET_KEY);
        BlobStore store = BlobStores.create("filesystem", props);
        if (!store.containerExists(BUCKET)) store.createContainer(BUCKET);
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(store)
                .endpoint(URI.create("http://127.0.0.1:" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .ignoreUnknownHeaders(true)
                .stopTimeout(0) // no graceful wait: idle keep-alive connections of clients would hold it for the whole timeout
                .build();
        proxy.start();
        // start() returns once Jetty is starting; its port is known when it is started
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) throw new IOException("s3proxy did not start: " + proxy.getState());
            Thread.sleep(5);
        }
        return new LocalS3(proxy, store, dir);
    }

    public URI endpoint() { return URI.create("http://127.0.0.1:" + proxy.getPort()); }

    public int port() { return proxy.getPort(); }

    public String bucket() { return BUCKET; }

    public String region() { return REGION; }

    public String accessKey() { return ACCESS_KEY; }

    public String secretKey() { return SECRET_KEY; }

    /** Where the objects lie: {@code <dir>/<bucket>/<key>}. */
    public Path dir() { return dir; }

    @Override
    public void close() throws Exception {
        try {
            proxy.stop();
        } finally {
            store.close();
        }
    }
}
