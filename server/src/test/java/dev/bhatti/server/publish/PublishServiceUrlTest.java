package dev.bhatti.server.publish;

import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.testing.Services;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** What a publish answers about its URL: the full URL while a proxy runs, and why there is none otherwise. */
class PublishServiceUrlTest {
    @TempDir Path dir;
    Services services;
    UserRecord alice;

    @BeforeEach
    void setUp() {
        services = new Services(dir);
        alice = services.user("alice", 2);
    }

    @AfterEach
    void tearDown() { services.close(); }

    @Test
    void aPublishCarriesTheFullUrlOfTheDefaultProxyOrWhyThereIsNone() {
        var sandbox = services.sandboxes.create(alice, Services.named("dev")).sandbox();
        var proxy = new AtomicReference<>(DefaultProxy.forApi("127.0.0.1", 0, Optional::empty).withPorts(45001, 0));
        var why = new AtomicReference<String>();
        var publishes = new PublishService(services.store, proxy::get, () -> HostCertificates.NONE, why::get);

        var p = publishes.publish(alice, sandbox, 3000, "web");
        assertThat(p.url()).isEqualTo("http://web.localhost:45001/");
        assertThat(publishes.whyNoUrl()).isEmpty();

        proxy.set(null);
        why.set("the public proxy is not running: its default address 127.0.0.1:45001 was taken; set proxy.listen");
        assertThat(publishes.list(sandbox)).singleElement().satisfies(l -> assertThat(l.url()).isEmpty());
        assertThat(publishes.whyNoUrl()).contains(why.get());
    }
}
