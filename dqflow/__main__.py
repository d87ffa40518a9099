from dqflow.cli import main

main()
