package dev.edgesync.node.cli;

import dev.edgesync.node.Main;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code edgesync version}. */
@Command(
    name = "version",
    mixinStandardHelpOptions = true,
    description =
        "Prints the version of this program (from the jar manifest; 'dev' when run from classes).")
public final class VersionCommand implements Callable<Integer> {
  @ParentCommand Main main;

  @Override
  public Integer call() {
    main.out().println("edgesync " + Main.version());
    return Main.EXIT_OK;
  }
}
