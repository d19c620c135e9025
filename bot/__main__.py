"""`python -m bot run | console | demo | invite | schedule | questionnaires | staff | import | replay |
export | report | audit | backup | doctor`: each command lives in its own module of bot/cli/."""

from bot.cli import main

if __name__ == "__main__":
    main()
