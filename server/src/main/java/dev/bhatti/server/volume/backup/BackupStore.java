package dev.bhatti.server.volume.backup;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The bucket as the backups see it: objects under {@code <prefix>/users/<userId>/}, chunks and manifests.
 * Every SDK failure leaves here as a {@link BackupException} of kind UNAVAILABLE that names the endpoint,
 * the bucket, what was being done and what the store answered.
 */
final class BackupStore implements AutoCloseable {

    private static final int DELETE_BATCH = 1000;

    private final S3Client s3;
    private final URI endpoint;
    private final String bucket;
    private final String prefix;

    BackupStore(BackupConfig config, BackupConfig.Credentials credentials) {
        this.endpoint = config.endpoint();
        this.bucket = config.bucket();
        this.prefix = config.prefix();
        this.s3 = S3Client.builder()
                .endpointOverride(config.endpoint())
                .region(Region.of(config.region()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(credentials.accessKey(), credentials.secretKey())))
                // path-style and no CRC trailers: what S3-compatible stores other than AWS understand
                .forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(Duration.ofSeconds(60))
                        .build())
                .build();
    }

    String userPrefix(String userId) { return prefix + "/users/" + userId + "/"; }

    String chunksPrefix(String userId) { return userPrefix(userId) + "chunks/"; }

    String chunkKey(String userId, String chunkId) { return chunksPrefix(userId) + chunkId; }

    String volumesPrefix(String userId) { return userPrefix(userId) + "volumes/"; }

    String backupsPrefix(String userId, String volume) { return volumesPrefix(userId) + volume + "/backups/"; }

    String manifestKey(String userId, String volume, String backupId) { return backupsPrefix(userId, volume) + backupId + ".manifest"; }

    /** Fails unless the bucket is there and these credentials may use it. */
    void check() {
        call("reach the bucket", () -> s3.headBucket(b -> b.bucket(bucket)));
    }

    /** The ids of the user's stored chunks, listed page by page. */
    Set<String> chunkIds(String userId) {
        String p = chunksPrefix(userId);
        return keys(p).stream().map(k -> k.substring(p.length())).filter(id -> BackupNames.CHUNK_ID.matcher(id).matches())
                .collect(Collectors.toSet());
    }

    /** All keys under {@code keyPrefix}. */
    List<String> keys(String keyPrefix) {
        return call("list " + keyPrefix, () -> {
            var out = new ArrayList<String>();
            for (var page : s3.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(keyPrefix))) {
                for (S3Object o : page.contents()) out.add(o.key());
            }
            return out;
        });
    }

    void put(String key, byte[] body, Map<String, String> metadata) {
        call("store " + key, () -> s3.putObject(r -> r.bucket(bucket).key(key).contentLength((long) body.length).metadata(metadata),
                RequestBody.fromBytes(body)));
    }

    /** The object's bytes, empty when there is none. */
    Optional<byte[]> get(String key) {
        return call("read " + key, () -> {
            try {
                return Optional.of(s3.getObjectAsBytes(r -> r.bucket(bucket).key(key)).asByteArrayUnsafe());
            } catch (NoSuchKeyException e) {
                return Optional.empty();
            }
        });
    }

    /** The object's user metadata, empty when there is no object. */
    Optional<Map<String, String>> head(String key) {
        return call("look up " + key, () -> {
            try {
                return Optional.of(s3.headObject(r -> r.bucket(bucket).key(key)).metadata());
            } catch (NoSuchKeyException e) {
                return Optional.empty();
            } catch (S3Exception e) {
                // a HEAD answer has no body, so a missing key is only a 404
                if (e.statusCode() == 404 && (e.awsErrorDetails() == null || !"NoSuchBucket".equals(e.awsErrorDetails().errorCode()))) {
                    return Optional.empty();
                }
                throw e;
            }
        });
    }

    void delete(String key) {
        call("delete " + key, () -> s3.deleteObject(r -> r.bucket(bucket).key(key)));
    }

    /** Deletes the keys, a thousand per request; fails if the store reports any it could not delete. */
    void deleteAll(Collection<String> keys) {
        var list = List.copyOf(keys);
        for (int from = 0; from < list.size(); from += DELETE_BATCH) {
            var batch = list.subList(from, Math.min(list.size(), from + DELETE_BATCH)).stream()
                    .map(k -> ObjectIdentifier.builder().key(k).build()).toList();
            var answer = call("delete " + batch.size() + " objects", () -> s3.deleteObjects(r -> r.bucket(bucket)
                    .delete(Delete.builder().objects(batch).quiet(true).build())));
            if (answer.hasErrors() && !answer.errors().isEmpty()) {
                var e = answer.errors().getFirst();
                throw new BackupException(BackupException.Kind.UNAVAILABLE, where() + " did not delete " + answer.errors().size()
                        + " object(s), e.g. " + e.key() + ": " + e.code() + " " + e.message());
            }
        }
    }

    private String where() { return "the S3 store at " + endpoint + " (bucket " + bucket + ")"; }

    private <T> T call(String action, java.util.function.Supplier<T> request) {
        try {
            return request.get();
        } catch (AwsServiceException e) {
            var details = e.awsErrorDetails();
            String code = details == null || details.errorCode() == null ? "" : " " + details.errorCode();
            String message = details == null || details.errorMessage() == null ? "" : ": " + details.errorMessage();
            String hint = switch (e.statusCode()) {
                case 401, 403 -> " (check backup.access_key and backup.secret_key)";
                case 404 -> "NoSuchBucket".equals(code.strip()) ? " (create the bucket, or fix backup.bucket)" : "";
                default -> "";
            };
            String verb = e.statusCode() == 401 || e.statusCode() == 403 ? "refused to " : "failed to ";
            throw new BackupException(BackupException.Kind.UNAVAILABLE, where() + " " + verb + action + ": HTTP " + e.statusCode()
                    + code + message + hint, e);
        } catch (SdkClientException e) {
            throw new BackupException(BackupException.Kind.UNAVAILABLE, "cannot reach " + where() + " to " + action + ": "
                    + rootMessage(e), e);
        } catch (SdkException e) {
            throw new BackupException(BackupException.Kind.UNAVAILABLE, where() + " failed to " + action + ": " + e.getMessage(), e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t == e ? String.valueOf(e.getMessage()) : t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    @Override
    public void close() { s3.close(); }
}
