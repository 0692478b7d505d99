package dev.edgesync.node.cli;

import dev.edgesync.engine.SyncNode;
import dev.edgesync.engine.storage.StoreBackup;
import dev.edgesync.node.Main;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code edgesync restore FILE --data-dir DIR [--id ID]}: rebuilds a data dir from a backup. */
@Command(
    name = "restore",
    mixinStandardHelpOptions = true,
    description = {
      "Rebuilds the database of a data dir from a backup (edgesync backup). The data dir must hold no",
      "database; the backup is checked as it is read, and nothing is left behind if it is damaged.",
      "Start the node on it under the backup's node id: it starts a new log epoch and pulls from its",
      "peers, from the start, what it lacks. Its peers resume from it in the new epoch."
    })
public final class RestoreCommand implements Callable<Integer> {
  @ParentCommand Main main;

  @Parameters(index = "0", paramLabel = "FILE", description = "The backup.")
  Path file;

  @Option(names = "--data-dir", required = true, paramLabel = "DIR", description = "The data dir to restore into.")
  Path dataDir;

  @Option(
      names = "--id",
      paramLabel = "ID",
      description = "The node id the data dir is for; a backup of another node is refused (default: the backup's).")
  String id;

  @Override
  public Integer call() {
    if (!Files.isRegularFile(file)) {
      main.err().println("edgesync: " + file + " is not a file");
      return Main.EXIT_USAGE;
    }
    try (InputStream in = Files.newInputStream(file)) {
      StoreBackup.Manifest m = SyncNode.restoreBackup(in, dataDir, id);
      main.out().println("restored " + BackupCommand.describe(m) + " into " + dataDir);
      main.out().println(
          "start it with: edgesync run --id " + m.nodeId() + " --data-dir " + dataDir + " (and its usual config);"
              + " it pulls what it lacks from its peers");
      return Main.EXIT_OK;
    } catch (StoreBackup.DamagedBackupException e) {
      main.err().println("edgesync: " + file + " is damaged: " + e.getMessage() + "; nothing was restored");
      return Main.EXIT_FAILURE;
    } catch (IllegalArgumentException e) {
      main.err().println("edgesync: " + e.getMessage());
      return Main.EXIT_FAILURE;
    } catch (IOException | RuntimeException e) {
      main.err().println("edgesync: cannot restore " + file + " into " + dataDir + ": " + e.getMessage());
      return Main.EXIT_FAILURE;
    }
  }
}
