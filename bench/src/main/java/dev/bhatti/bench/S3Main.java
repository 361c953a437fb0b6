package dev.bhatti.bench;

import dev.bhatti.testkit.LocalS3;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The S3-compatible store the benchmark's daemon backs volumes up to (s3proxy on loopback, objects in files):
 * {@code S3Main DIR PORT_FILE} serves until killed and writes its port to PORT_FILE once it answers.
 */
public final class S3Main {
    private S3Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) throw new IllegalArgumentException("usage: S3Main DIR PORT_FILE");
        var s3 = LocalS3.start(Path.of(args[0]));
        Path tmp = Path.of(args[1] + ".tmp");
        Files.writeString(tmp, s3.port() + " " + s3.bucket() + " " + s3.accessKey() + " " + s3.secretKey() + "\n");
        Files.move(tmp, Path.of(args[1]));
        Thread.currentThread().join(); // until the run's cleanup kills it
    }
}
