using RnnNotebooks.Cli;

return Cli.Run(args);
