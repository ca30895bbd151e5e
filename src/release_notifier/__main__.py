from release_notifier.cli import main

main()
