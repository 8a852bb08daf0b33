/**
 * The reference card as one offline HTML page, with the values of a traced step drawn on the cell diagram
 * ({@link dev.lstm4j.card.Card}).
 */
package dev.lstm4j.card;
