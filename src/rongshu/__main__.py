from rongshu.cli import main

main()
