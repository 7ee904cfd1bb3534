return KubeCaRotate.Cli.CliApp.Run(args);
