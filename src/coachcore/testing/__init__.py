"""Test helpers for coachcore (throwaway servers, fixtures)."""
