package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node whose database ({@code <dataDir>/db}) is deleted while its watermark files stay (an
 * operator "resetting" a damaged database) starts with a brand-new, empty store but still holds
 * watermarks saying it has applied its peers' logs up to their heads. It must get the whole
 * state back anyway: watermarks describe what the store holds, and this store holds nothing.
 *
 * <p>The engine ties the watermark directory to the database's log id and discards watermarks
 * written for another database (it logs a WARN saying so).
 */
class DeletedDatabaseKeptWatermarksTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void nodeWithNewDatabaseButOldWatermarksGetsWholeStateBack() throws Exception {
    Cluster c = cleanup.newCluster("db-only", false);
    c.add("keeper");
    NodeProcess reset = c.add("reset");
    c.connect("keeper", "reset").startAll();
    AckedWrites acked = new AckedWrites();
    Data.bulk(c.node("keeper").http(), Data.keys("keeper/", 200, "k"), acked);
    c.awaitConverged();
    c.awaitWatermarkAtHead("reset", "keeper");

    assertEquals(0, reset.terminate());
    assertTrue(Files.exists(reset.spec.dataDir.resolve(".watermarks").resolve("keeper.json")), "test premise: a watermark file exists");
    ProcessCleanup.deleteTree(reset.spec.dataDir.resolve("db"));
    reset.start();
    acked.assertHeldBy("state after the database was recreated", c.awaitConverged());
  }
}
