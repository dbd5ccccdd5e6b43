System.Console.Out.Write("aot-floor\n");
