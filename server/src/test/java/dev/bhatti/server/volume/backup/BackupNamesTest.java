package dev.bhatti.server.volume.backup;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;

import static org.assertj.core.api.Assertions.assertThat;

class BackupNamesTest {

    @Test
    void backupIdsSortByTimeEvenWithinOneSecond() {
        Instant second = Instant.parse("2026-12-06T11:05:12Z");
        var ids = new ArrayList<String>();
        for (int ms = 0; ms < 1000; ms += 37) ids.add(BackupNames.newBackupId(second.plusMillis(ms))); // ... 962, 999
        ids.add(BackupNames.newBackupId(second.plusSeconds(1)));
        assertThat(ids).isSortedAccordingTo(Comparator.naturalOrder());
        for (String id : ids) {
            assertThat(BackupNames.BACKUP_ID.matcher(id).matches()).as(id).isTrue();
            assertThat(BackupNames.instantOf(id)).isBetween(second, second.plusSeconds(1));
        }
        assertThat(ids.getFirst()).startsWith("20261206T110512Z-");
    }
}
