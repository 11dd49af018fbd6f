"""Operations against AWS behind `hp`: plain functions that tests and other programs call."""
