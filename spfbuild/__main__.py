from spfbuild.cli import main

main()
