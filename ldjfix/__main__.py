from ldjfix.cli import main

main()
