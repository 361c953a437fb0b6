package dev.bhatti.server.volume.backup;

import dev.bhatti.testkit.LocalS3;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.util.List;

/** The test's own view of the bucket, past the service: to list, damage and remove objects behind its back. */
final class TestStore implements AutoCloseable {

    final LocalS3 s3;
    final S3Client client;

    TestStore(LocalS3 s3) {
        this.s3 = s3;
        this.client = S3Client.builder().endpointOverride(s3.endpoint()).region(Region.of(s3.region()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())))
                .forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    /** A config for the local store, from YAML like config.yaml's, with {@code extra} lines added under {@code backup:}. */
    BackupConfig config(String... extra) {
        return configFor(s3.endpoint().toString(), s3.accessKey(), s3.secretKey(), extra);
    }

    BackupConfig configFor(String endpoint, String accessKey, String secretKey, String... extra) {
        var yaml = new StringBuilder("backup:\n  endpoint: " + endpoint + "\n  bucket: " + s3.bucket() + "\n  access_key: " + accessKey
                + "\n  secret_key: " + secretKey + "\n");
        for (String e : extra) yaml.append("  ").append(e).append('\n');
        JsonNode root = new YAMLMapper().readTree(yaml.toString());
        return BackupConfig.parse(root.path("backup"));
    }

    static BackupConfig.Credentials credentials(BackupConfig c) {
        return c.credentials(name -> { throw new AssertionError("no secret references in tests"); });
    }

    List<String> keys(String prefix) {
        return client.listObjectsV2Paginator(r -> r.bucket(s3.bucket()).prefix(prefix)).contents().stream().map(S3Object::key).toList();
    }

    List<String> chunkKeys(String user) { return keys("bhatti/users/" + user + "/chunks/"); }

    byte[] get(String key) { return client.getObjectAsBytes(r -> r.bucket(s3.bucket()).key(key)).asByteArray(); }

    void put(String key, byte[] body) { client.putObject(r -> r.bucket(s3.bucket()).key(key), RequestBody.fromBytes(body)); }

    void delete(String key) { client.deleteObject(r -> r.bucket(s3.bucket()).key(key)); }

    @Override
    public void close() { client.close(); }
}
