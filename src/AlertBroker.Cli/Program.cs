Console.WriteLine("alertbroker");
