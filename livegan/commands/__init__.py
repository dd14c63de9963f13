"""One module per subcommand: wiring only (open, start, loop, tear down).

Nothing but ``livegan.cli`` imports these modules; what two commands share lives in the packages
they wire together.
"""
