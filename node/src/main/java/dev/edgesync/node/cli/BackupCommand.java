package dev.edgesync.node.cli;

import dev.edgesync.engine.storage.StoreBackup;
import dev.edgesync.node.Main;
import dev.edgesync.node.client.NodeClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code edgesync backup --to FILE} of a running node, and {@code edgesync backup --verify FILE}. */
@Command(
    name = "backup",
    mixinStandardHelpOptions = true,
    description = {
      "backup --to FILE: a consistent backup of a running node (POST /admin/backup) into FILE:",
      "  its state, change log, log id and epochs, compressed, with a manifest and a checksum; writes",
      "  go on meanwhile. The file is checked before it is kept. Restore it with edgesync restore.",
      "backup --verify FILE: checks a backup without restoring it."
    })
public final class BackupCommand extends ClientCommand implements Callable<Integer> {
  @Option(names = "--to", paramLabel = "FILE", description = "Where to write the backup (must not exist).")
  Path to;

  @Option(names = "--verify", paramLabel = "FILE", description = "A backup to check.")
  Path verify;

  @Override
  public Integer call() {
    if ((to == null) == (verify == null)) {
      main.err().println("edgesync: backup takes either --to FILE or --verify FILE; see edgesync backup --help");
      return Main.EXIT_USAGE;
    }
    return verify != null ? verify() : backup();
  }

  private int verify() {
    try (InputStream in = Files.newInputStream(verify)) {
      StoreBackup.Manifest m = StoreBackup.verify(in);
      main.out().println(verify + ": a sound backup of " + describe(m));
      return Main.EXIT_OK;
    } catch (StoreBackup.DamagedBackupException e) {
      main.err().println("edgesync: " + verify + " is damaged: " + e.getMessage() + "; it cannot be restored, take another backup");
      return Main.EXIT_FAILURE;
    } catch (IOException | java.io.UncheckedIOException e) {
      main.err().println("edgesync: cannot read " + verify + ": " + e.getMessage());
      return Main.EXIT_FAILURE;
    }
  }

  private int backup() {
    if (Files.exists(to)) {
      main.err().println("edgesync: " + to + " exists; a backup never overwrites a file: choose another name or remove it");
      return Main.EXIT_USAGE;
    }
    Path part = to.resolveSibling(to.getFileName() + ".part");
    NodeClient c = client();
    try {
      int status;
      try (OutputStream out = Files.newOutputStream(part)) {
        status = c.backup(out, bytes -> main.err().println("... " + (bytes >> 20) + " MiB"));
      }
      if (status != 200) {
        String body = Files.readString(part, StandardCharsets.UTF_8);
        main.err().println("edgesync: backup of " + c.base() + " failed (" + status + "): " + body.strip());
        return Main.EXIT_FAILURE;
      }
      StoreBackup.Manifest m;
      try (InputStream in = Files.newInputStream(part)) {
        m = StoreBackup.verify(in);
      } catch (StoreBackup.DamagedBackupException e) {
        main.err().println("edgesync: the backup of " + c.base() + " did not arrive whole (" + e.getMessage()
            + "); nothing was kept: see the node's log, and try again");
        return Main.EXIT_FAILURE;
      }
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(part, java.nio.file.StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(part, to, StandardCopyOption.ATOMIC_MOVE);
      main.out().println("backup of " + describe(m) + " written to " + to + " (" + Files.size(to) + " bytes)");
      return Main.EXIT_OK;
    } catch (IOException e) {
      main.err().println("edgesync: cannot write " + to + ": " + e.getMessage());
      return Main.EXIT_FAILURE;
    } finally {
      try {
        Files.deleteIfExists(part);
      } catch (IOException e) {
        main.err().println("edgesync: cannot remove " + part + ": " + e.getMessage());
      }
    }
  }

  /** One line about a backup, for this command and {@code restore}. */
  static String describe(StoreBackup.Manifest m) {
    return "node '" + m.nodeId() + "' taken at " + m.takenAt() + ": " + m.rows() + " rows, head seq " + m.headSeq()
        + ", digest " + m.digest();
  }
}
